"""The service commands: ``run`` (the daemon itself), ``status`` and ``doctor``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from edge_assistant.cli.options import Subcommands, add_config, add_home, add_model, add_stt, add_templates_only

__all__ = ["register"]

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def _cmd_run(args: argparse.Namespace) -> int:
    from edge_assistant.service import RunOptions, run_daemon

    logging.getLogger("edge_assistant").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    source = "text" if args.text else "pcm" if args.stdin else "mic"
    options = RunOptions(
        args.config, args.home, args.stt, args.model, source, not args.templates_only, args.debug_record_dir
    )
    return run_daemon(options)


def _cmd_status(args: argparse.Namespace) -> int:
    from edge_assistant.config import load_settings
    from edge_assistant.status import default_socket_path, query_status

    path = Path(args.socket) if args.socket else None
    if path is None:
        configured = load_settings(args.config).daemon.status_socket if args.config else ""
        path = Path(configured) if configured else default_socket_path()
    try:
        snap = query_status(path)
    except OSError as exc:
        print(f"edge-assistant: no daemon answers on {path}: {exc.strerror or exc}", file=sys.stderr)
        print("is it running? systemctl status edge-assistant", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(snap, indent=2))
        return 0
    _print_status(snap)
    return 0


def _print_status(snap: dict[str, Any]) -> None:
    print(f"up {snap['uptime_s']:.0f} s   model {snap['model']}   reloads {snap['reloads']}")
    print(
        f"utterances {snap['utterances']}   intents {snap['intents']}   "
        f"failed actions {snap['actions_failed']}   errors {snap['errors']}"
    )
    for stage, row in snap["stages"].items():
        print(f"  {stage:<22} p50 {row['p50_ms']:>8.1f} ms   p95 {row['p95_ms']:>8.1f} ms   (n={row['n']})")
    for item in snap["last_utterances"][-10:]:
        what = item["intent"] or f"- ({item['reason']})"
        print(f"  [{item['id']}] {item['transcript']!r} -> {what}")
    for err in snap["recent_errors"][-5:]:
        print(f"  error in {err['stage']}: {err['error']}")


def _cmd_doctor(args: argparse.Namespace) -> int:
    from edge_assistant.doctor import run_checks, systemd_allow

    if args.systemd_allow:
        sys.stdout.write(systemd_allow(args.config))
        return 0
    checks = run_checks(args.config, args.check or None)
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        for c in checks:
            print(f"{_MARK[c.status]} {c.name:<16} {c.detail}" + (f"\n     fix: {c.fix}" if c.fix else ""))
    return 1 if any(c.status == "fail" for c in checks) else 0


def register(commands: Subcommands) -> None:
    """Add ``run``, ``status`` and ``doctor``."""
    p = commands.add_parser("run", help="the service: microphone (or raw PCM / text lines on stdin) to actions")
    add_home(p, help="home YAML (default: [nlu] home)")
    add_templates_only(p, help="do not load the intent model")
    add_config(p)
    add_stt(p)
    add_model(p)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--stdin", action="store_true", help="read raw 16 kHz mono S16LE PCM from stdin")
    source.add_argument("--text", action="store_true", help="read one utterance per text line from stdin")
    p.add_argument("--debug-record-dir", help="keep each utterance (audio WAV; transcript, parse, actions JSON) here")
    p.set_defaults(func=_cmd_run)

    s = commands.add_parser("status", help="ask the running daemon for uptime, latencies and last utterances")
    add_config(s, help="config TOML (for [daemon] status_socket)")
    s.add_argument("--socket", help="status socket path")
    s.add_argument("--json", action="store_true", help="print the raw JSON")
    s.set_defaults(func=_cmd_status)

    d = commands.add_parser("doctor", help="check Python, CPU, audio, models, config and handlers; say what to fix")
    add_config(d)
    d.add_argument(
        "--check",
        action="append",
        choices=["python", "cpu", "audio", "speech", "config", "models", "handlers"],
        help="only this check (repeatable)",
    )
    d.add_argument("--json", action="store_true")
    d.add_argument("--systemd-allow", action="store_true", help="print the unit drop-in allowing the handler hosts")
    d.set_defaults(func=_cmd_doctor)
