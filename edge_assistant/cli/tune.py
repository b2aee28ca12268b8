"""``edge-assistant tune``: fit a LoRA adapter of the intent model to the catalog and a home."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from edge_assistant.cli.options import Subcommands, add_config, add_home

__all__ = ["ProgressBar", "register"]


class ProgressBar:
    """A live bar on a terminal; plain lines (about every 5%) in logs and pipes."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_pct = -5

    def __call__(self, step: int, total: int, loss: float, elapsed: float) -> None:
        """Report ``step`` of ``total`` with the loss and a time estimate from the mean step time."""
        eta = elapsed / step * (total - step)
        pct = 100 * step // total
        text = f"{step}/{total} steps  loss {loss:.3f}  {_clock(elapsed)} elapsed, ~{_clock(eta)} left"
        if self.tty:
            filled = 30 * step // total
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {text}  ")
            if step == total:
                self.stream.write("\n")
        elif pct >= self._last_pct + 5 or step == total or step == 1:
            self._last_pct = pct
            self.stream.write(f"tune: {text}\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _default_out(home: str) -> Path:
    from edge_assistant.modelstore import default_models_dir

    return default_models_dir() / "adapters" / f"{Path(home).stem}.lora.gguf"


def _cmd_tune(args: argparse.Namespace) -> int:
    # On a shared or busy CPU, OpenMP threads that spin while waiting for a descheduled sibling make
    # training several times slower; passive waiting costs little when the CPU is free. Set before
    # torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # A tune stopped by SIGTERM (systemd, timeout, a job scheduler) unwinds like Ctrl-C: its staged
    # files are removed and the active adapter stays as it was.
    signal.signal(signal.SIGTERM, _terminated)
    from edge_assistant.config import load_settings
    from edge_assistant.home import load_home
    from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
    from edge_assistant.runtime import resolve_model_path
    from edge_assistant.tune.data import DataSettings
    from edge_assistant.tune.pipeline import TuneJob, run_tune
    from edge_assistant.tune.train import TrainSettings

    _check_args(args)
    settings = load_settings(args.config)
    base = resolve_model_path(settings, args.base)
    from edge_assistant.nlu.llm import check_gguf

    check_gguf(base)
    catalog = load_catalog([BUILTIN_CATALOG_DIR, *settings.nlu.catalog])
    home = load_home(args.home)
    job = TuneJob(
        base=base,
        out=Path(args.out) if args.out else _default_out(args.home),
        data=DataSettings(samples=args.samples, home_share=args.home_share, homes=args.generated_homes),
        train=TrainSettings(steps=args.steps, batch_size=args.batch_size, seed=args.seed, lr=args.lr),
        command=shlex.join(["edge-assistant", *sys.argv[1:]]),
    )
    log = _logger()
    record = run_tune(job, catalog, home, ProgressBar(), log)
    log(
        f"done in {_clock(record['total_seconds'])}: validation accuracy {record['val_accuracy']:.1%} "
        f"({record['val_samples']} samples), false accepts {record['val_false_accepts']:.1%}, "
        f"torch/llama.cpp agreement {record['torch_llama_agreement']} "
        f"({record['torch_llama_close_calls']} close calls not compared)"
    )
    print(f'use it with [model] lora_path = "{job.out}"')
    return 0


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _check_args(args: argparse.Namespace) -> None:
    from edge_assistant.errors import TuneError

    if args.steps < 1 or args.batch_size < 1:
        raise TuneError("--steps and --batch-size must be at least 1")
    if args.samples < 50:
        raise TuneError(f"--samples {args.samples} is too few: at least 50 (a train and a validation split)")
    if not 0.0 <= args.home_share <= 1.0:
        raise TuneError(f"--home-share must be between 0 and 1, got {args.home_share}")
    if args.generated_homes < 1 and args.home_share < 1.0:
        raise TuneError("--generated-homes must be at least 1 unless --home-share is 1")
    if not args.lr > 0:
        raise TuneError("--lr must be positive")


def _logger() -> Any:
    start = time.monotonic()

    def log(message: str) -> None:
        sys.stderr.write(f"tune [{_clock(time.monotonic() - start)}] {message}\n")
        sys.stderr.flush()

    return log


def register(commands: Subcommands) -> None:
    """Add ``tune``."""
    t = commands.add_parser("tune", help="fit a LoRA adapter of the intent model to the catalog and a home")
    add_home(t, required=True, help="home YAML whose names the data uses")
    add_config(t, help="config TOML ([nlu] catalog adds custom intents; [model] path is the base)")
    t.add_argument("--base", help="base GGUF path or manifest name (default: [model] path)")
    t.add_argument("--out", help="adapter to write (default: <models dir>/adapters/<home>.lora.gguf)")
    t.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    t.add_argument("--seed", type=int, default=0, help="seed for data and initialisation (default 0)")
    t.add_argument("--samples", type=int, default=10000, help="synthetic samples to generate (default 10000)")
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=4e-4, help="peak learning rate (default 4e-4)")
    t.add_argument("--home-share", type=float, default=0.5, help="share of sentences named from --home (0-1)")
    t.add_argument("--generated-homes", type=int, default=40, help="generated homes for the other sentences")
    t.set_defaults(func=_cmd_tune)
