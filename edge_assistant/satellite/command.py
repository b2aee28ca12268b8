"""``edge-assistant satellite``: the microphone (or raw PCM on stdin, or WAV files) to a Wyoming hub.

Prints one JSON object per utterance on stdout: the hub's transcript, the command sent, whether
the hub handled it, its reply and the timings (``speech_end_to_handled``: from the end of the
utterance to the hub's answer). The work is in :mod:`edge_assistant.satellite.app`, imported
when the command runs, so that the command line starts without the ``satellite`` extra.
"""

from __future__ import annotations

import argparse
import logging

from edge_assistant.config import load_settings
from edge_assistant.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``edge-assistant satellite``."""
    from edge_assistant.cli.options import add_config

    p.add_argument("--hub", help="tcp://HUB:PORT of a Wyoming asr + handle server (default: [satellite] hub)")
    add_config(p, "config TOML ([satellite], [audio], [tts])")
    p.add_argument("--name", help="this satellite's name, sent to the hub (default: [satellite] name, the host)")
    p.add_argument("--stdin", action="store_true", help="read raw 16 kHz mono S16LE PCM from stdin")
    p.add_argument("--realtime", action="store_true", help="play stdin or the files in real time, as if spoken")
    p.add_argument("--reply-dir", help="write each spoken reply here as reply-N.wav instead of playing it")
    p.add_argument("--systemd-allow", action="store_true", help="print the unit drop-in allowing the hub's address")
    p.add_argument("files", nargs="*", metavar="FILE.wav", help="WAV files to send instead of the microphone")


def run(args: argparse.Namespace) -> int:
    """Run until the input ends or SIGTERM; returns the exit status."""
    from edge_assistant.hub.settings import parse_uri
    from edge_assistant.satellite.app import serve

    logging.getLogger("edge_assistant").setLevel(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    settings = load_settings(args.config)
    uri = args.hub or settings.satellite.hub
    host, _ = parse_uri(uri, field="satellite.hub")
    if args.systemd_allow:
        from edge_assistant.doctor import allow_drop_in

        print(allow_drop_in([host, *settings.daemon.allow_hosts]), end="")
        return 0
    if settings.audio.mode == "push_to_talk":
        raise ConfigError('a satellite listens in mode "always" or "wake"', path=args.config, field="audio.mode")
    if settings.daemon.offline_guard:
        from edge_assistant.netguard import install_guard

        install_guard([host, *settings.daemon.allow_hosts])
    return serve(settings, args, uri)
