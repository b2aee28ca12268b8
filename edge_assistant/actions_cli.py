"""``edge-assistant handle`` (parse + dispatch) and ``edge-assistant bench dispatch``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from edge_assistant.jsonl import emit as _emit
from edge_assistant.jsonl import stdin_lines

__all__ = ["register"]


def _cmd_handle(args: argparse.Namespace) -> int:
    from edge_assistant.assistant import Assistant

    with Assistant.from_config(
        args.config,
        home=args.home,
        model=args.model,
        use_model=not args.templates_only,
        speak=args.say,
        dry_run=args.dry_run,
    ) as assistant:
        if args.text is not None:
            _emit(assistant.handle(args.text).to_json())
            return 0
        for number, text, error in stdin_lines():
            if text is None:
                _emit({"text": None, "intent": None, "line": number, "error": error, "actions": []})
            else:
                _emit(assistant.handle(text).to_json())
        return 0


def _cmd_bench_dispatch(args: argparse.Namespace) -> int:
    from edge_assistant.bench.dispatch import run_dispatch_bench

    report = run_dispatch_bench(args.home, overhead_n=args.overhead_n, commands=args.commands, outage_s=args.outage_s)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    return 0 if report["restart"]["lost"] == 0 else 1


def register(commands: Any, bench_suites: Any) -> None:
    """Add ``handle`` to the top-level commands and ``dispatch`` to the ``bench`` suites."""
    h = commands.add_parser("handle", help="text -> intent -> handlers; prints the parse plus its actions")
    h.add_argument("--home", help="home YAML (default: [nlu] home of the config)")
    h.add_argument("--config", help="config TOML ([handlers.*], [policy], [tts] ...)")
    h.add_argument("--model", help="GGUF path or manifest name; overrides [model] path")
    h.add_argument("--templates-only", action="store_true", help="do not load the model")
    h.add_argument("--dry-run", action="store_true", help="log what would be done instead of acting")
    h.add_argument("--say", action="store_true", help="speak the replies with the [tts] engine")
    h.add_argument("text", nargs="?", help="the command; omit to read one per line from stdin")
    h.set_defaults(func=_cmd_handle)

    b = bench_suites.add_parser("dispatch", help="dispatch overhead (log, mqtt) and 1,000 commands over a restart")
    b.add_argument("--home", default="deploy/home.example.yaml", help="home YAML")
    b.add_argument("--overhead-n", type=int, default=500, help="commands per handler for the overhead")
    b.add_argument("--commands", type=int, default=1000, help="commands sent across the broker restart")
    b.add_argument("--outage-s", type=float, default=1.0, help="how long the broker stays down")
    b.add_argument("--json", help="also write the report here")
    b.set_defaults(func=_cmd_bench_dispatch)
