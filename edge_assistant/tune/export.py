"""Write the trained LoRA as a GGUF adapter that ``Llama(lora_path=...)`` applies to the unchanged base.

Layout as llama.cpp's ``convert_lora_to_gguf.py`` writes it: ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``, and per adapted base tensor ``<name>.lora_a``
(numpy shape rank x in) and ``<name>.lora_b`` (out x rank). The file is written beside the
target under a temporary name and renamed into place, so an interrupted tune never leaves a
half-written adapter where the runtime loads it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edge_assistant.errors import TuneError
from edge_assistant.nlu.prompt import FORMAT_KEY, TUNED_FORMAT

__all__ = ["PROMPT_FORMAT", "check_disk", "write_adapter", "write_text_atomic"]

PROMPT_FORMAT = TUNED_FORMAT


def check_disk(directory: Path, needed_bytes: int) -> None:
    """TuneError when ``directory`` cannot be created or lacks ``needed_bytes`` of free space."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise TuneError(f"cannot write to {directory}: {exc.strerror}") from exc
    if free < needed_bytes:
        raise TuneError(
            f"not enough disk space in {directory}: {free // 2**20} MiB free, {needed_bytes // 2**20} MiB needed"
        )


def _permute(rows: Any, n_head: int) -> Any:
    """llama.cpp's q/k row order for Llama-style GGUFs (convert_hf_to_gguf's ``permute``)."""
    return rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def _llama_rows(name: str, lora_b: Any, config: Any) -> Any:
    if name.endswith("attn_q.weight"):
        return _permute(lora_b, config.num_attention_heads)
    if name.endswith("attn_k.weight"):
        return _permute(lora_b, config.num_key_value_heads)
    return lora_b


def write_adapter(
    path: Path, arch: str, state: dict[str, tuple[Any, Any]], alpha: float, config: Any, meta: dict[str, str]
) -> None:
    """Write ``state`` (base tensor name -> (A, B)) as a GGUF LoRA adapter at ``path``, atomically."""
    import gguf
    import numpy as np

    size = sum(a.size + b.size for a, b in state.values()) * 2
    check_disk(path.parent, size + 16 * 2**20)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer = gguf.GGUFWriter(str(tmp), arch)
        writer.add_string("general.type", "adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", float(alpha))
        writer.add_string(FORMAT_KEY, PROMPT_FORMAT)
        for key, value in meta.items():
            writer.add_string(f"edge_assistant.{key}", value)
        for name, (lora_a, lora_b) in state.items():
            if arch == "llama":
                lora_b = _llama_rows(name, lora_b, config)
            writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(lora_a, dtype=np.float16))
            writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(lora_b, dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
