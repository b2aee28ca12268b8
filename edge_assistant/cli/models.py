"""``edge-assistant models``: list, pull or verify the models of ``models/manifest.toml``."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_assistant.cli.options import Subcommands
from edge_assistant.jsonl import emit as _emit

__all__ = ["register"]


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


def register(commands: Subcommands) -> None:
    """Add ``models``."""
    m = commands.add_parser("models", help="list, pull or verify models from models/manifest.toml")
    m.add_argument("action", choices=["list", "pull", "verify"])
    m.add_argument("names", nargs="*", help="manifest names (default: the default model)")
    m.add_argument("--dir", help="models directory")
    m.set_defaults(func=_cmd_models)
