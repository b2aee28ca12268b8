"""``bench nlu-tuned`` and ``bench nlu-dev``: base model and adapters side by side.

Each configuration runs in turn: the base model with the few-shot prompt, then with the short
tuned prompt the base model plus the shipped adapter (when the base is the default model) and
plus each adapter given by ``--adapter NAME=PATH``. ``nlu-tuned`` runs every suite of ``bench
nlu`` (with the hassil anchor; the naive-llama anchor once, on the base model). ``nlu-dev`` runs
the development set and its negatives, where choices are made before SLURP is run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["parse_adapters", "run_tuned"]


def parse_adapters(values: list[str]) -> list[tuple[str, Path]]:
    """``NAME=PATH`` pairs; a ValueError names a malformed one or a missing file."""
    pairs: list[tuple[str, Path]] = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--adapter expects NAME=PATH, got '{value}'")
        if not Path(path).exists():
            raise ValueError(f"--adapter {name}: file not found: {path}")
        pairs.append((name, Path(path)))
    return pairs


def run_tuned(args: argparse.Namespace) -> int:
    """Run ``bench nlu-tuned`` (or ``nlu-dev`` with ``args.dev``) for each configuration; 0 when done."""
    from benchmarks.nlu import run_dev_bench, run_nlu_bench
    from edge_assistant.config import load_settings
    from edge_assistant.errors import ConfigError
    from edge_assistant.nlu.llm import LlamaModel
    from edge_assistant.runtime import open_model, resolve_model_path, shipped_adapter

    settings = load_settings(args.config)
    base = resolve_model_path(settings, args.model)
    try:
        adapters = parse_adapters(args.adapter or [])
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    report: dict[str, Any] = {"model": base.name, "configurations": {}}
    configs: list[tuple[str, Path | None]] = [] if args.skip_base else [("base", None)]
    shipped = shipped_adapter(base)
    if shipped is not None and not args.no_shipped:
        configs.append(("base + shipped adapter", shipped))
    for name, lora in [*configs, *adapters]:
        print(f"== {name}", file=sys.stdout, flush=True)

        def factory(lora: Path | None = lora) -> LlamaModel:
            return open_model(settings, base, lora)

        if args.dev:
            result = run_dev_bench(Path(args.data), factory(), tuned_prompt=lora is not None)
        else:
            anchor = args.anchor_every if lora is None else 0
            result = run_nlu_bench(Path(args.data), factory, base, anchor, tuned_prompt=lora is not None)
        report["configurations"][name] = result
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
