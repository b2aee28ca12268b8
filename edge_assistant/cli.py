"""The ``edge-assistant`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_assistant.config import load_settings
from edge_assistant.errors import EdgeAssistantError
from edge_assistant.jsonl import emit as _emit
from edge_assistant.jsonl import stdin_lines

__all__ = ["main"]

# Modules that define the subcommands of one stage beside its code; each has
# ``register(commands, bench_suites) -> None`` (two argparse subparser actions: top-level commands
# and the suites of ``bench``) and imports its heavy dependencies only when the command runs.
_STAGE_COMMANDS: tuple[str, ...] = (
    "edge_assistant.service_cli",
    "edge_assistant.actions_cli",
    "edge_assistant.tune_cli",
    "edge_assistant.speech_cli",
)

_DEFAULT_BENCH_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"


def _cmd_parse(args: argparse.Namespace) -> int:
    from edge_assistant.runtime import build_parser, resolve_home_path

    settings = load_settings(args.config)
    home = resolve_home_path(settings, args.config, args.home)
    parser = build_parser(settings, home, args.model, use_model=not args.templates_only)
    if args.text is not None:
        _emit(parser.parse(args.text).model_dump())
        return 0
    for number, line, error in stdin_lines():
        if line is None:
            _emit({"text": None, "intent": None, "line": number, "error": error})
        else:
            _emit(parser.parse(line).model_dump())
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from edge_assistant import modelstore

    manifest = modelstore.load_manifest()
    models_dir = Path(args.dir) if args.dir else modelstore.default_models_dir()
    if args.action == "list":
        for entry in manifest.models.values():
            present = (models_dir / entry.file).exists()
            mark = "*" if entry.name == manifest.default else " "
            size = f"{entry.size / 1e6:.0f} MB" if entry.size else "?"
            state = "present" if present else "absent"
            print(f"{mark} {entry.name:<18} {entry.kind:<5} {size:>7}  {state:<8} {entry.license}")
        print(f"models directory: {models_dir}   (* = default)")
        return 0
    names = args.names or ["default"]
    if args.action == "pull":
        for name in names:
            print(modelstore.pull(manifest.get(name), models_dir))
        return 0
    rows = [modelstore.verify(manifest.get(name), models_dir) for name in names]
    for row in rows:
        _emit(row)
    return 0 if all(r["ok"] for r in rows) else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from edge_assistant.bench.nlu import run_nlu_bench
    from edge_assistant.nlu.llm import LlamaModel
    from edge_assistant.runtime import resolve_model_path

    settings = load_settings(args.config)
    path = resolve_model_path(settings, args.model)
    report = run_nlu_bench(
        Path(args.data), lambda: LlamaModel(path, n_threads=settings.model.n_threads or None), path, args.anchor_every
    )
    report["model"] = str(path.name)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def _build_argparser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="edge-assistant", description="Offline voice commands.")
    top.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="text -> intent JSON (one line per utterance on stdin without TEXT)")
    p.add_argument("--home", help="home YAML (floors, areas, entities); default: [nlu] home of the config")
    p.add_argument("--config", help="config TOML")
    p.add_argument("--model", help="GGUF path or manifest name; overrides [model] path")
    p.add_argument("--templates-only", action="store_true", help="do not load the model")
    p.add_argument("text", nargs="?", help="the command; omit to read stdin")
    p.set_defaults(func=_cmd_parse)

    m = sub.add_parser("models", help="list, pull or verify models from models/manifest.toml")
    m.add_argument("action", choices=["list", "pull", "verify"])
    m.add_argument("names", nargs="*", help="manifest names (default: the default model)")
    m.add_argument("--dir", help="models directory")
    m.set_defaults(func=_cmd_models)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="suite", required=True)
    b = bench.add_parser("nlu", help="text -> intent accuracy and latency on ../shared/benchmarks")
    b.add_argument("--data", default=str(_DEFAULT_BENCH_ROOT), help="the shared/benchmarks directory")
    b.add_argument("--config")
    b.add_argument("--model")
    b.add_argument("--anchor-every", type=int, default=10, help="naive-llama anchor on every Nth case (0: skip)")
    b.add_argument("--json", help="also write the report here")
    b.set_defaults(func=_cmd_bench)

    from edge_assistant.hub import command as hub_command

    w = sub.add_parser("wyoming", help="the Wyoming hub: asr, handle, intent and tts for Home Assistant and satellites")
    hub_command.add_arguments(w)
    w.set_defaults(func=hub_command.run)
    from edge_assistant.satellite import command as satellite_command

    s = sub.add_parser("satellite", help="a room's microphone: each utterance to a Wyoming hub, its reply spoken")
    satellite_command.add_arguments(s)
    s.set_defaults(func=satellite_command.run)

    for module in _STAGE_COMMANDS:
        importlib.import_module(module).register(sub, bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    args = _build_argparser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except EdgeAssistantError as exc:
        print(f"edge-assistant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
