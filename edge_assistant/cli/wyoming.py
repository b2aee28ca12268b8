"""The Wyoming commands: ``wyoming`` (the hub) and ``satellite`` (a room's microphone).

Their options and work live beside their code (``edge_assistant.hub.command``,
``edge_assistant.satellite.command``); both import the wyoming package only when they run.
"""

from __future__ import annotations

from edge_assistant.cli.options import Subcommands
from edge_assistant.hub import command as hub
from edge_assistant.satellite import command as satellite

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``wyoming`` and ``satellite``."""
    p = commands.add_parser(
        "wyoming", help="the Wyoming hub: asr, handle, intent and tts for Home Assistant and satellites"
    )
    hub.add_arguments(p)
    p.set_defaults(func=hub.run)
    p = commands.add_parser("satellite", help="a room's microphone: each utterance to a Wyoming hub, its reply spoken")
    satellite.add_arguments(p)
    p.set_defaults(func=satellite.run)
