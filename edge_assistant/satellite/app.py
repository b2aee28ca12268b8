"""The satellite process: sources, the hub client, the reply voice and signals, wired together."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from edge_assistant.audio.sources import AudioSource, PacedSource
from edge_assistant.config import Settings
from edge_assistant.errors import SpeechError
from edge_assistant.events import Speaker
from edge_assistant.jsonl import emit
from edge_assistant.satellite.client import HubClient, HubSpeaker
from edge_assistant.satellite.loop import Link, Satellite, SatelliteResult
from edge_assistant.tts import Player, TtsSpeaker, WavFilePlayer, build_player, build_speaker

__all__ = ["serve", "serve_home_assistant"]

log = logging.getLogger(__name__)
_STOP_GRACE_S = 3.0


def serve(settings: Settings, args: argparse.Namespace, uri: str) -> int:
    """Run the satellite over the sources ``args`` names; returns the exit status."""
    client = HubClient(uri, settings.satellite.timeout_s, args.name or settings.satellite.name, settings.satellite.area)
    return asyncio.run(_run(settings, args, client))


def serve_home_assistant(settings: Settings, args: argparse.Namespace, uri: str, zeroconf: bool) -> int:
    """Run the satellite for Home Assistant, which connects to ``uri`` and runs its pipeline; the exit status."""
    return asyncio.run(_run_home_assistant(settings, args, uri, zeroconf))


async def _run(settings: Settings, args: argparse.Namespace, client: HubClient) -> int:
    live = not args.stdin and not args.files
    if not live:
        await client.connect()  # a file run fails at once, with the reason, when the hub is not there
    return await _each_source(settings, args, client, _Voice(settings, client, args.reply_dir))


async def _run_home_assistant(settings: Settings, args: argparse.Namespace, uri: str, zeroconf: bool) -> int:
    from edge_assistant.hub.announce import announce
    from edge_assistant.hub.settings import parse_uri
    from edge_assistant.satellite.homeassistant import HomeAssistantLink

    name = args.name or settings.satellite.name
    player = None if settings.satellite.speak == "none" else _player(settings, args.reply_dir)
    link = HomeAssistantLink(
        uri, player, name=name, remote_wake=settings.audio.mode == "wake",
        wake_timeout_s=settings.audio.wake_timeout_s,
        allow_clients=settings.satellite.allow_clients, timeout_s=settings.satellite.timeout_s,
    )  # fmt: skip
    if settings.audio.mode == "wake" and settings.audio.wake_phrase:
        log.warning(
            "[audio] wake_phrase %r is not used with --serve: Home Assistant's wake word engine listens "
            "(its pipeline's wake word)", settings.audio.wake_phrase,
        )  # fmt: skip
    await link.start()
    host, port = parse_uri(uri, field="satellite.serve")
    announcement = announce(host, port, name, what="the satellite", role="satellite") if zeroconf else None
    try:
        # A file run waits for Home Assistant before it speaks; a signal then still says goodbye
        # over zeroconf (below), or Home Assistant keeps offering a satellite that is gone.
        if (args.stdin or args.files) and not await _unless_signalled(link.wait_ready(settings.satellite.timeout_s)):
            return 0
        return await _each_source(settings, args, link, None)  # Home Assistant's reply audio is played by the link
    finally:
        await link.stop()
        if announcement is not None:
            await announcement.close()


async def _unless_signalled(waiting: Awaitable[object]) -> bool:
    """Await ``waiting``; False, with it cancelled, when SIGTERM or SIGINT comes first."""
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled.set)
    log.debug("SIGTERM or SIGINT now stops the wait")
    task, stop = asyncio.ensure_future(waiting), asyncio.create_task(signalled.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        stop.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        log.info("stopped while waiting for Home Assistant")
        return False
    task.result()
    return True


def _player(settings: Settings, reply_dir: str | None) -> Player | None:
    """Where replies are played: WAV files in ``reply_dir``, else the sound card; None when it cannot be."""
    if reply_dir:
        return WavFilePlayer(Path(reply_dir))
    try:
        return build_player(settings.tts)
    except SpeechError as exc:
        log.warning("replies will not be played: %s", exc)
        return None


async def _each_source(settings: Settings, args: argparse.Namespace, client: Link, speaker: Speaker | None) -> int:
    sources = _sources(settings, args)
    live = not args.stdin and not args.files
    loop = asyncio.get_running_loop()
    for source in sources:
        satellite = Satellite(source, client, settings.audio, speaker, _print, mute_while_speaking=live)
        task = asyncio.create_task(satellite.run())
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stopper(satellite, task))
        await asyncio.gather(task, return_exceptions=not live)
        if satellite.stopped_by_signal:
            break
    return 0


def _stopper(satellite: Satellite, task: asyncio.Task[None]) -> Callable[[], None]:
    def stop() -> None:
        satellite.stopped_by_signal = True
        satellite.stop()
        asyncio.get_running_loop().call_later(_STOP_GRACE_S, task.cancel)

    return stop


def _sources(settings: Settings, args: argparse.Namespace) -> list[AudioSource]:
    from edge_assistant.audio.sources import StdinSource, WavSource

    sources: list[AudioSource]
    if args.stdin:
        sources = [StdinSource(sys.stdin.buffer)]
    elif args.files:
        sources = [WavSource(path) for path in args.files]
    else:
        from edge_assistant.audio.mic import MicSource

        return [MicSource(settings.audio.device, settings.audio.queue_frames)]
    return [PacedSource(s) for s in sources] if args.realtime else sources


def _print(result: SatelliteResult) -> None:
    emit(dataclasses.asdict(result))


class _Voice:
    """Implements ``events.Speaker`` by ``[satellite] speak``: the hub's tts, the local ``[tts]``, or none."""

    def __init__(self, settings: Settings, client: HubClient, reply_dir: str | None) -> None:
        self.mode = settings.satellite.speak
        self.client = client
        self._settings = settings
        self._reply_dir = reply_dir
        self._player: Player | None = None
        self._local: TtsSpeaker | None = None
        self._ready = False

    def _prepare(self) -> None:
        if self._ready:
            return
        self._ready = True
        self._player = _player(self._settings, self._reply_dir)
        if self._player is not None and self.mode in ("auto", "local"):
            try:
                self._local = build_speaker(self._settings.tts, self._player)
            except SpeechError as exc:
                log.warning("replies will not be spoken: %s", exc)

    async def say(self, text: str) -> None:
        """Speak ``text`` where ``[satellite] speak`` says."""
        if self.mode == "none":
            return
        self._prepare()
        if self.mode in ("auto", "hub") and self.client.has_tts and self._player is not None:
            await HubSpeaker(self.client, self._player).say(text)
        elif self._local is not None:
            await self._local.say(text)
