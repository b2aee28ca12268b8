"""LoRA for the base model's linear layers, and loading that base from its GGUF file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from edge_assistant.errors import TuneError

__all__ = ["SUPPORTED_ARCHITECTURES", "TARGETS", "add_lora", "gguf_architecture", "load_base", "lora_state"]

# GGUF architectures whose weights transformers can dequantize and we can map back to GGUF names.
SUPPORTED_ARCHITECTURES = ("gemma3", "llama")
# transformers module suffix -> GGUF tensor name in block N (``blk.N.<name>.weight``).
TARGETS = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_architecture(path: Path) -> str:
    """``general.architecture`` of a GGUF file; TuneError when unreadable or unsupported."""
    from edge_assistant.errors import ModelError
    from edge_assistant.nlu.llm import gguf_string

    try:
        arch = gguf_string(path, "general.architecture")
    except (OSError, ModelError) as exc:
        raise TuneError(f"{path} is not a readable GGUF model: {exc}") from exc
    if arch is None:
        raise TuneError(f"{path} is not a readable GGUF model: it names no general.architecture")
    if arch not in SUPPORTED_ARCHITECTURES:
        raise TuneError(
            f"{path}: architecture '{arch}' cannot be tuned; supported: {', '.join(SUPPORTED_ARCHITECTURES)} "
            "(Gemma 3 text, and Llama-style models such as SmolLM2)"
        )
    return arch


def load_base(path: Path) -> Any:
    """The base model dequantized from its GGUF file by transformers (float32, eval mode, frozen)."""
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as exc:
        raise TuneError(f"transformers cannot load {path}: {exc}") from exc
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def _lora_class() -> Any:
    import torch

    class LoraLinear(torch.nn.Module):
        """``base(x) + scale * B(A(x))`` with A (rank x in) and B (out x rank), B starting at zero."""

        def __init__(self, base: torch.nn.Linear, rank: int, alpha: float) -> None:
            super().__init__()
            self.base = base
            self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
            self.scale = alpha / rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale
            return out

    return LoraLinear


def add_lora(model: Any, rank: int, alpha: float) -> dict[str, Any]:
    """Wrap every targeted linear layer; returns GGUF base tensor name -> LoRA module."""
    cls = _lora_class()
    added: dict[str, Any] = {}
    for index, layer in enumerate(model.model.layers):
        for suffix, gguf_name in TARGETS.items():
            owner_path, attr = suffix.rsplit(".", 1)
            owner = layer.get_submodule(owner_path)
            wrapped = cls(getattr(owner, attr), rank, alpha)
            setattr(owner, attr, wrapped)
            added[f"blk.{index}.{gguf_name}.weight"] = wrapped
    if not added:
        raise TuneError("the base model has no layers to adapt")
    return added


def lora_state(modules: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """GGUF base tensor name -> (A, B) as float32 numpy arrays."""
    return {
        name: (m.lora_a.detach().float().cpu().numpy(), m.lora_b.detach().float().cpu().numpy())
        for name, m in modules.items()
    }
