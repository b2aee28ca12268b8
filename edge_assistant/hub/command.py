"""``edge-assistant wyoming``: build the hub from the config and serve until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from edge_assistant.config import Settings, load_settings
from edge_assistant.errors import ConfigError

if TYPE_CHECKING:
    from edge_assistant.assistant import Assistant
    from edge_assistant.hub.asr import TranscriberPool
    from edge_assistant.hub.server import Hub

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``edge-assistant wyoming``."""
    from edge_assistant.cli.options import add_config, add_home, add_model, add_stt, add_templates_only

    p.add_argument("--uri", help="tcp://HOST:PORT to listen on (default: [wyoming] uri, tcp://127.0.0.1:10800)")
    add_config(p, "config TOML ([wyoming], [handlers.*], [policy], [stt], [tts] ...)")
    add_home(p)
    add_model(p)
    add_templates_only(p)
    add_stt(p)
    p.add_argument("--no-zeroconf", action="store_true", help="do not announce _wyoming._tcp over mDNS")
    p.add_argument(
        "--systemd-allow", action="store_true", help="print the unit drop-in allowing the clients and handler hosts"
    )


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; returns the exit status."""
    from edge_assistant.hub.settings import parse_uri

    logging.getLogger("edge_assistant").setLevel(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    settings = load_settings(args.config)
    uri = args.uri or settings.wyoming.uri
    host, _port = parse_uri(uri)
    zeroconf = announces(settings, args, host)
    if args.systemd_allow:
        print(systemd_allow(args.config, settings, host, zeroconf), end="")
        return 0
    if settings.daemon.offline_guard:
        _guard(settings, host, zeroconf)
    hub = build_hub(settings, args)
    return asyncio.run(_serve(hub, uri, zeroconf))


def announces(settings: Settings, args: argparse.Namespace, host: str) -> bool:
    """Whether the hub bound to ``host`` announces itself over zeroconf: when configured, and
    never on loopback (nothing off this host can reach it there, and Home Assistant's mDNS leaves
    `lo` out), as the satellite does."""
    from edge_assistant.hub.settings import is_loopback

    if not settings.wyoming.zeroconf or args.no_zeroconf:
        return False
    if is_loopback(host):
        log.info("zeroconf: not announced on loopback (%s); a client on this host adds it by host and port", host)
        return False
    return True


def build_hub(settings: Settings, args: argparse.Namespace) -> Hub:
    """The assistant, the speech engines, the synthesiser and the info event, from the config."""
    from edge_assistant.assistant import Assistant
    from edge_assistant.hub.info import build_info
    from edge_assistant.hub.server import Hub
    from edge_assistant.tts import build_synth

    use_model = not args.templates_only
    assistant = Assistant.from_settings(settings, args.config, home=args.home, model=args.model, use_model=use_model)
    assistant.warm_up(heard=True)
    pool = _engines(settings, assistant, args.stt)
    engine = args.stt or settings.stt.engine
    info = build_info(engine, settings.stt.mode, _model_name(settings, args.model, use_model), settings.tts)
    wake = settings.audio.wake_phrase if settings.audio.mode == "wake" else ""
    return Hub(assistant, pool, settings.wyoming, info, build_synth(settings.tts), wake)


def _engines(settings: Settings, assistant: Assistant, engine: str | None) -> TranscriberPool:
    from edge_assistant.hub.asr import TranscriberPool, replicator
    from edge_assistant.pipeline import build_transcriber

    # Whisper's replicas share its one model, which decodes as many utterances at once as the pool lends.
    first = build_transcriber(settings, assistant.parser, engine, workers=settings.wyoming.asr_sessions)
    return TranscriberPool(replicator(first, lambda: build_transcriber(settings, assistant.parser, engine)),
                           settings.wyoming.asr_sessions, first)  # fmt: skip


def _model_name(settings: Settings, model: str | None, use_model: bool) -> str:
    if not use_model:
        return "templates only"
    from edge_assistant.runtime import resolve_model_path

    return resolve_model_path(settings, model).name


async def _serve(hub: Hub, uri: str, zeroconf: bool) -> int:
    from edge_assistant.sdnotify import Notifier

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Worker threads: one per speech engine decoding at once, plus parsing, synthesis and spare.
    workers = hub.pool.size + 4
    loop.set_default_executor(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub"))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    notifier = Notifier()
    await hub.pool.fill()
    watchdog = asyncio.create_task(_watchdog(notifier))

    def ready(address: str) -> None:
        log.info("ready: Wyoming hub on %s (%d speech engines)", address, hub.pool.loaded)
        notifier.ready(f"serving {address}")

    try:
        await hub.serve(uri, stop, zeroconf=zeroconf, on_ready=ready)
    finally:
        notifier.stopping()
        watchdog.cancel()
        await hub.assistant.aclose()
        notifier.close()
    return 0


async def _watchdog(notifier: object) -> None:
    from edge_assistant.sdnotify import Notifier

    assert isinstance(notifier, Notifier)
    if notifier.watchdog_interval is None:
        return
    while True:
        notifier.watchdog()
        await asyncio.sleep(notifier.watchdog_interval)


def _guard(settings: Settings, host: str, zeroconf: bool) -> None:
    """The offline guard: loopback, the handler hosts, the bound address and (with zeroconf) the mDNS group."""
    from edge_assistant.doctor import handler_endpoints
    from edge_assistant.hub.announce import mdns_peers
    from edge_assistant.netguard import install_guard

    hosts = {h for _, h, _ in handler_endpoints(settings)} | set(settings.daemon.allow_hosts) | {host}
    if zeroconf:  # the group, and the queriers: mDNS answers by unicast too
        hosts |= set(mdns_peers(host, settings.wyoming.allow_clients))
    guard = install_guard(sorted(hosts))
    log.info("offline guard on: loopback and %s", sorted(guard.allowed_names))


def systemd_allow(config: str | None, settings: Settings, host: str, zeroconf: bool) -> str:
    """The hub unit's drop-in: loopback, the handler hosts, the allowed clients and the mDNS group."""
    from edge_assistant.doctor import systemd_allow as handler_hosts_allow
    from edge_assistant.hub.announce import MDNS_GROUP
    from edge_assistant.hub.settings import is_loopback

    clients = list(settings.wyoming.allow_clients)
    if not is_loopback(host) and not clients:
        raise ConfigError(
            "a hub on the LAN needs [wyoming] allow_clients (the satellites and Home Assistant, "
            'e.g. ["192.168.1.0/24"]): the unit lets only those reach it',
            path=config,
            field="wyoming.allow_clients",
        )
    extra = clients + ([MDNS_GROUP] if zeroconf and not is_loopback(host) else [])
    return handler_hosts_allow(config, extra)
