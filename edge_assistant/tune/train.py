"""LoRA training on the exact prompt and answer tokens the runtime decodes.

Tokens come from llama.cpp's own tokenizer (the GGUF's vocabulary, loaded ``vocab_only``), pieced
together as the runtime does: BOS + prefix, then the continuation, then the answer. The loss is on
the answer tokens only, and the output layer runs only at those positions (Gemma's vocabulary has
262k entries). CPU by default; CUDA when present.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_assistant.errors import BackendMissingError
from edge_assistant.tune.data import Sample
from edge_assistant.tune.lora import add_lora, load_base

__all__ = ["Progress", "Tokenizer", "TrainSettings", "Trainer"]

Progress = Callable[[int, int, float, float], None]  # step, total, loss, seconds elapsed


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings."""

    steps: int = 300
    batch_size: int = 16
    lr: float = 3e-4
    rank: int = 8
    alpha: float = 16.0
    warmup: int = 10
    seed: int = 0


class Tokenizer:
    """llama.cpp's tokenizer for the base GGUF, so training sees the runtime's exact token ids."""

    def __init__(self, path: Path) -> None:
        import llama_cpp

        self._llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        self._prefix_cache: dict[str, list[int]] = {}

    def encode(self, text: str, bos: bool = False) -> list[int]:
        """Token ids of ``text`` (special tokens parsed, as the runtime does)."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=bos, special=True))

    def sample(self, sample: Sample) -> tuple[list[int], int]:
        """All ids of prefix + continuation + answer, and where the answer starts."""
        prefix, cont, ans = sample.prompt
        if prefix not in self._prefix_cache:
            self._prefix_cache[prefix] = self.encode(prefix, bos=True)
        head = self._prefix_cache[prefix] + self.encode(cont)
        return head + self.encode(ans), len(head)


def _device() -> Any:
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    torch.set_num_threads(os.cpu_count() or 1)
    return torch.device("cpu")


class Trainer:
    """Holds the base model with LoRA layers and trains them on samples."""

    def __init__(self, base: Path, settings: TrainSettings) -> None:
        try:
            import torch
        except ImportError as exc:
            raise BackendMissingError("torch", "tune") from exc
        torch.manual_seed(settings.seed)
        self.settings = settings
        self.device = _device()
        self.tokenizer = Tokenizer(base)
        self.model = load_base(base)
        self.modules = add_lora(self.model, settings.rank, settings.alpha)
        self.model.to(self.device)
        self.cap = getattr(self.model.config, "final_logit_softcapping", None)

    def _batch(self, samples: list[Sample]) -> tuple[Any, Any, Any, Any]:
        import torch

        encoded = [self.tokenizer.sample(s) for s in samples]
        width = max(len(ids) for ids, _ in encoded)
        ids = torch.zeros((len(encoded), width), dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        rows, cols, targets = [], [], []
        for i, (seq, start) in enumerate(encoded):
            ids[i, : len(seq)] = torch.tensor(seq)
            mask[i, : len(seq)] = 1
            for pos in range(start, len(seq)):
                rows.append(i)
                cols.append(pos - 1)  # the hidden state before a token predicts it
                targets.append(seq[pos])
        dev = self.device
        return (
            ids.to(dev),
            mask.to(dev),
            (torch.tensor(rows, device=dev), torch.tensor(cols, device=dev)),
            (torch.tensor(targets, device=dev)),
        )

    def logits_at(self, ids: Any, mask: Any, rows: Any, cols: Any) -> Any:
        """Output logits only at (row, col) positions: the lm_head never sees the other positions."""
        import torch

        hidden = self.model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = self.model.lm_head(hidden[rows, cols])
        if self.cap:
            logits = torch.tanh(logits / self.cap) * self.cap
        return logits

    def train(self, samples: list[Sample], progress: Progress | None = None) -> list[float]:
        """Run ``settings.steps`` AdamW steps over shuffled batches; returns the loss per step."""
        import torch

        s = self.settings
        params = [p for m in self.modules.values() for p in (m.lora_a, m.lora_b)]
        optim = torch.optim.AdamW(params, lr=s.lr, weight_decay=0.0)
        order: list[Sample] = []
        rng = random.Random(s.seed)  # noqa: S311 - reproducible batches, not security
        losses: list[float] = []
        start = time.monotonic()
        self.model.train()
        for step in range(s.steps):
            if len(order) < s.batch_size:
                order = list(samples)
                rng.shuffle(order)
            batch, order = order[: s.batch_size], order[s.batch_size :]
            for group in optim.param_groups:
                group["lr"] = s.lr * _schedule(step, s.steps, s.warmup)
            ids, mask, (rows, cols), targets = self._batch(batch)
            loss = torch.nn.functional.cross_entropy(self.logits_at(ids, mask, rows, cols), targets)
            optim.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            losses.append(float(loss.item()))
            if progress is not None:
                progress(step + 1, s.steps, losses[-1], time.monotonic() - start)
        self.model.eval()
        return losses

    def choose(self, sample: Sample, options: list[str]) -> tuple[int, float]:
        """The option the runtime's greedy trie decoding would pick, computed in torch, and its margin.

        The margin is the smallest gap, in logits, between the chosen token and the next best at
        the branch points of the trie: how close a call it was (the quantized base in llama.cpp may
        tip a near tie the other way).
        """
        import torch

        from edge_assistant.nlu.prompt import answer

        prefix, cont, _ = sample.prompt
        head = self.tokenizer.encode(prefix, bos=True) + self.tokenizer.encode(cont)
        tails = [self.tokenizer.encode(answer(o)) for o in options]
        seqs = [head + t for t in tails]
        width = max(len(q) for q in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long, device=self.device)
        mask = torch.zeros_like(ids)
        for i, q in enumerate(seqs):
            ids[i, : len(q)] = torch.tensor(q)
            mask[i, : len(q)] = 1
        with torch.no_grad():
            hidden = self.model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        alive, depth, margin = list(range(len(options))), 0, math.inf
        while len(alive) > 1:
            nexts = sorted({tails[i][depth] for i in alive if depth < len(tails[i])})
            if len(nexts) > 1:
                row = alive[0]
                with torch.no_grad():
                    logits = self.model.lm_head(hidden[row, len(head) + depth - 1])
                ranked = sorted(nexts, key=lambda t: -float(logits[t]))  # stable: ties keep token order
                best = ranked[0]
                margin = min(margin, float(logits[best]) - float(logits[ranked[1]]))
            else:
                best = nexts[0]
            alive = [i for i in alive if depth < len(tails[i]) and tails[i][depth] == best]
            depth += 1
        return alive[0], margin


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak rate."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
