"""``edge-assistant bench``: the benchmark suites, which live in ``benchmarks/`` of a source checkout.

The wheel carries no benchmark code. From a clone (an editable install, or ``python -m
benchmarks``) the suites of ``benchmarks.cli`` are registered here; elsewhere ``bench`` says where
to run them.
"""

from __future__ import annotations

import argparse
import sys

from edge_assistant.cli.options import Subcommands

__all__ = ["register"]

_NO_CHECKOUT = (
    "edge-assistant: bench: the benchmarks run only from a source checkout of edge-assistant: "
    "install it with `pip install -e .` in the clone, or run `python -m benchmarks SUITE ...` from the clone's root"
)


def _cmd_unavailable(_args: argparse.Namespace) -> int:
    print(_NO_CHECKOUT, file=sys.stderr)
    return 2


def register(commands: Subcommands) -> None:
    """Add ``bench`` with the suites of ``benchmarks.cli``, or one that explains where they are."""
    try:
        from benchmarks.cli import register_suites
    except ImportError:
        bench = commands.add_parser("bench", help="benchmarks (from a source checkout only)")
        bench.add_argument("suite_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        bench.set_defaults(func=_cmd_unavailable)
        return
    bench = commands.add_parser("bench", help="benchmarks")
    register_suites(bench.add_subparsers(dest="suite", required=True))
