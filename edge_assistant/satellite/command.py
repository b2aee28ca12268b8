"""``edge-assistant satellite``: the microphone (or raw PCM on stdin, or WAV files) to a Wyoming hub,
or, with ``--serve``, to Home Assistant's Assist pipeline (Home Assistant connects to the satellite).

Prints one JSON object per utterance on stdout: the hub's transcript, the command sent, whether
the hub handled it, its reply and the timings (``speech_end_to_handled``: from the end of the
utterance to the hub's answer). The work is in :mod:`edge_assistant.satellite.app`, imported
when the command runs, so that the command line starts without the ``satellite`` extra.
"""

from __future__ import annotations

import argparse
import logging

from edge_assistant.config import Settings, load_settings
from edge_assistant.errors import ConfigError

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``edge-assistant satellite``."""
    from edge_assistant.cli.options import add_config

    p.add_argument("--hub", help="tcp://HUB:PORT of a Wyoming asr + handle server (default: [satellite] hub)")
    add_config(p, "config TOML ([satellite], [audio], [tts])")
    p.add_argument(
        "--serve",
        metavar="URI",
        help="tcp://HOST:PORT for Home Assistant to connect to and run its pipeline (default: [satellite] serve)",
    )
    p.add_argument("--no-zeroconf", action="store_true", help="with --serve: do not announce _wyoming._tcp")
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
    if settings.audio.mode == "push_to_talk":
        raise ConfigError('a satellite listens in mode "always" or "wake"', path=args.config, field="audio.mode")
    served = args.serve or ("" if args.hub else settings.satellite.serve)
    if served:
        return _serve_home_assistant(args, settings, served)
    uri = args.hub or settings.satellite.hub
    host, _ = parse_uri(uri, field="satellite.hub")
    if args.systemd_allow:
        from edge_assistant.doctor import allow_drop_in

        print(allow_drop_in([host, *settings.daemon.allow_hosts]), end="")
        return 0
    if settings.daemon.offline_guard:
        from edge_assistant.netguard import install_guard

        install_guard([host, *settings.daemon.allow_hosts])
    return serve(settings, args, uri)


def _serve_home_assistant(args: argparse.Namespace, settings: Settings, uri: str) -> int:
    """``--serve``: Home Assistant connects here; the unit and the guard allow it and mDNS, nothing more."""
    from edge_assistant.hub.announce import MDNS_GROUP, mdns_peers
    from edge_assistant.hub.settings import is_loopback, parse_uri
    from edge_assistant.satellite.app import serve_home_assistant

    host, _ = parse_uri(uri, field="satellite.serve")
    loopback = is_loopback(host)
    zeroconf = settings.satellite.zeroconf and not args.no_zeroconf and not loopback
    if args.systemd_allow:
        from edge_assistant.doctor import allow_drop_in

        clients = list(settings.satellite.allow_clients)
        if not loopback and not clients:
            raise ConfigError(
                "a satellite on the LAN needs [satellite] allow_clients (Home Assistant's address, "
                'e.g. ["192.168.1.10"]): the unit lets only those reach it',
                path=args.config,
                field="satellite.allow_clients",
            )
        print(allow_drop_in([*clients, *([MDNS_GROUP] if zeroconf else []), *settings.daemon.allow_hosts]), end="")
        return 0
    if settings.daemon.offline_guard:
        from edge_assistant.netguard import install_guard

        # With zeroconf, mDNS answers a querier (Home Assistant) by unicast too.
        mdns = mdns_peers(host, settings.satellite.allow_clients) if zeroconf else []
        install_guard([host, *mdns, *settings.daemon.allow_hosts])
    if not loopback and not settings.satellite.allow_clients:
        log.warning("serving %s with no [satellite] allow_clients: any host that reaches it hears this room", uri)
    return serve_home_assistant(settings, args, uri, zeroconf)
