"""The ``edge-assistant`` command line: one module per command group.

``text`` (parse, handle), ``speech`` (listen, transcribe, devices), ``service`` (run, status,
doctor), ``wyoming`` (wyoming, satellite), ``home`` (import-home), ``models``, ``tune`` and ``bench``. Each module has
``register(commands)`` and imports its heavy dependencies only when a command runs; shared
flags are in ``options``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from edge_assistant.cli import bench, home, models, service, speech, text, tune, wyoming
from edge_assistant.errors import EdgeAssistantError

__all__ = ["build_argparser", "main", "run_command"]


def build_argparser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    top = argparse.ArgumentParser(prog="edge-assistant", description="Offline voice commands.")
    top.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = top.add_subparsers(dest="command", required=True)
    for group in (text, speech, service, wyoming, home, models, tune, bench):
        group.register(commands)
    return top


def run_command(args: argparse.Namespace) -> int:
    """Configure logging and run ``args.func``; a project error is one line on stderr and status 2."""
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    return run_command(build_argparser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
