"""Options shared by several subcommands, so each flag is spelled and explained once."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# What ``ArgumentParser.add_subparsers()`` returns; each command group adds its parsers to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

__all__ = ["Subcommands", "add_config", "add_home", "add_json_out", "add_model", "add_stt", "add_templates_only"]


def add_config(p: argparse.ArgumentParser, help: str = "config TOML") -> None:
    """``--config CONFIG.toml``."""
    p.add_argument("--config", help=help)


def add_home(
    p: argparse.ArgumentParser, *, required: bool = False, help: str = "home YAML (default: [nlu] home of the config)"
) -> None:
    """``--home HOME.yaml`` (floors, areas, entities)."""
    p.add_argument("--home", required=required, help=help)


def add_model(p: argparse.ArgumentParser, help: str = "GGUF path or manifest name; overrides [model] path") -> None:
    """``--model PATH.gguf|NAME``."""
    p.add_argument("--model", help=help)


def add_templates_only(p: argparse.ArgumentParser, help: str = "do not load the model") -> None:
    """``--templates-only``: parse with the catalog's templates alone."""
    p.add_argument("--templates-only", action="store_true", help=help)


def add_stt(p: argparse.ArgumentParser) -> None:
    """``--stt ENGINE`` (one of ``edge_assistant.stt.ENGINES``)."""
    from edge_assistant.stt import ENGINES

    p.add_argument("--stt", choices=ENGINES, help="speech engine; overrides [stt] engine")


def add_json_out(p: argparse.ArgumentParser) -> None:
    """``--json PATH``: a benchmark also writes its report there."""
    p.add_argument("--json", help="also write the report here")
