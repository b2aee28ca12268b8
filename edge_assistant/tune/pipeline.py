"""One tune end to end: checks, data, training, export, evaluation in llama.cpp, provenance."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edge_assistant.errors import TuneError
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog
from edge_assistant.nlu.prompt import NONE_LABEL
from edge_assistant.tune.data import DataSettings, Sample, check_inputs, generate, split
from edge_assistant.tune.export import PROMPT_FORMAT, check_disk, write_adapter, write_text_atomic
from edge_assistant.tune.lora import gguf_architecture, lora_state
from edge_assistant.tune.train import Progress, Trainer, TrainSettings

__all__ = ["TuneJob", "evaluate", "provenance_path", "run_tune", "staged_path"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class TuneJob:
    """Everything one tune needs."""

    base: Path
    out: Path
    data: DataSettings = field(default_factory=DataSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    command: str = ""
    agreement_checks: int = 16


# Agreement between torch and llama.cpp is checked on decisions torch makes by at least this many logits.
CLEAR_MARGIN = 1.0


def staged_path(out: Path) -> Path:
    """Where a tune keeps its adapter until evaluated: a hidden name beside ``out`` no config names."""
    return out.with_name(f".{out.stem}.staged{out.suffix}")


def _swap_in(moves: list[tuple[Path, Path]]) -> None:
    """Rename each (source, target) in order with SIGINT/SIGTERM held off, so the set moves together."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        for source, target in moves:
            os.replace(source, target)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def provenance_path(adapter: Path) -> Path:
    """Where the provenance JSON of an adapter lives: beside it, ``<name>.json``."""
    return adapter.with_suffix(".json")


def _options(catalog: Catalog, sample: Sample) -> list[str]:
    labels = [s.label for s in catalog.intents.values()]
    return labels + [line[0] for line in sample.extra if line[0] not in labels] + [NONE_LABEL]


def evaluate(
    base: Path, adapter: Path, catalog: Catalog, samples: list[Sample], trainer: Trainer | None, checks: int
) -> dict[str, Any]:
    """Accuracy of base + adapter in llama.cpp on ``samples``; agreement with torch on the first ``checks``."""
    from edge_assistant.nlu.llm import LlamaModel

    model = LlamaModel(base, lora_path=adapter)
    try:
        correct, agree, clear, negatives, false_accepts = 0, 0, 0, 0, 0
        prefix = None
        for i, sample in enumerate(samples):
            options = _options(catalog, sample)
            head, cont, _ = sample.prompt
            if head != prefix:
                model.set_prefix(head)
                prefix = head
            picked = model.choose(cont, options).index
            correct += options[picked] == sample.label
            if sample.label == NONE_LABEL:
                negatives += 1
                false_accepts += options[picked] != NONE_LABEL
            if trainer is not None and i < checks:
                chosen, margin = trainer.choose(sample, options)
                if margin >= CLEAR_MARGIN:  # a near tie may tip either way on the quantized base
                    clear += 1
                    agree += chosen == picked
    finally:
        model.close()
    return {
        "val_samples": len(samples),
        "val_accuracy": round(correct / max(1, len(samples)), 4),
        "val_false_accepts": round(false_accepts / max(1, negatives), 4),
        "torch_llama_agreement": f"{agree}/{clear}" if trainer is not None else "not checked",
        "torch_llama_close_calls": min(checks, len(samples)) - clear if trainer is not None else 0,
    }


def _sha256(path: Path) -> str:
    from edge_assistant.modelstore import sha256_of

    return sha256_of(path)


def run_tune(job: TuneJob, catalog: Catalog, home: Home, progress: Progress | None, log: Log) -> dict[str, Any]:
    """Tune, export atomically to ``job.out``, evaluate, and write the provenance file; returns it."""
    started = time.monotonic()
    arch = gguf_architecture(job.base)
    check_inputs(catalog, home)
    check_disk(job.out.parent, 64 * 2**20)
    samples = generate(catalog, home, job.data, job.train.seed)
    train, val = split(samples, job.data.val_fraction)
    if not train or not val:
        raise TuneError(f"too little data to train and validate ({len(samples)} samples): raise --samples")
    log(f"data: {len(train)} training and {len(val)} validation samples; loading {job.base.name} ...")
    trainer = Trainer(job.base, job.train)
    log(f"loaded in {time.monotonic() - started:.0f} s on {trainer.device}; training {job.train.steps} steps")
    losses = trainer.train(train, progress)
    trained_s = time.monotonic() - started
    base_sha = _sha256(job.base)
    meta = {"base_file": job.base.name, "base_sha256": base_sha, "command": job.command}
    # Trained, exported and evaluated under a staged name: the adapter and its provenance replace
    # those at job.out together, at the end. An interrupted tune (even while it evaluates) leaves
    # the active adapter and its provenance as they were.
    staged = staged_path(job.out)
    try:
        write_adapter(staged, arch, lora_state(trainer.modules), job.train.alpha, trainer.model.config, meta)
        log(f"adapter staged: {staged} ({staged.stat().st_size / 1e6:.1f} MB); evaluating in llama.cpp ...")
        metrics = evaluate(job.base, staged, catalog, val, trainer, job.agreement_checks)
        record = {
            "adapter": job.out.name,
            "prompt_format": PROMPT_FORMAT,
            "command": job.command,
            "seed": job.train.seed,
            "base_file": job.base.name,
            "base_architecture": arch,
            "base_sha256": base_sha,
            "catalog_intents": list(catalog.intents),
            "data": asdict(job.data),
            "train": asdict(job.train),
            "train_samples": len(train),
            "final_loss_mean_last_20": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4),
            "device": str(trainer.device),
            "train_seconds": round(trained_s, 1),
            "total_seconds": round(time.monotonic() - started, 1),
            **metrics,
        }
        write_text_atomic(provenance_path(staged), json.dumps(record, indent=2) + "\n")
        _swap_in([(staged, job.out), (provenance_path(staged), provenance_path(job.out))])
    finally:
        for leftover in (staged, provenance_path(staged)):
            leftover.unlink(missing_ok=True)
    return record
