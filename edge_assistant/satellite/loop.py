"""The satellite loop: audio -> endpointing -> the hub -> the spoken reply.

Two tasks joined by a bounded queue, as in the local pipeline: ``capture`` reads the source and
cuts it into utterances (``Endpointer``), ``talk`` owns the hub connection and streams each
utterance while it is spoken, then sends the transcript back as a command (when the wake phrase
allows) and speaks the reply. While the reply plays, a microphone's input is dropped, so the
satellite never hears itself. Each utterance ends as one :class:`SatelliteResult`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from edge_assistant.audio import FRAME_MS, AudioSettings
from edge_assistant.audio.endpoint import Endpointer, Event
from edge_assistant.audio.sources import AudioSource
from edge_assistant.audio.wake import WakeGate
from edge_assistant.events import Speaker
from edge_assistant.satellite.client import HubError, HubReply

__all__ = ["Link", "Satellite", "SatelliteResult"]

log = logging.getLogger(__name__)
_QUEUE = 512
_CHUNK_FRAMES = 5  # 100 ms of audio per audio-chunk event


class Link(Protocol):
    """Where utterances go: a hub (``client.HubClient``) or Home Assistant (``homeassistant.HomeAssistantLink``)."""

    checks_wake: bool  # True: the wake phrase is checked here in the transcript before a command is sent
    speaking: bool  # True while the link plays a reply (the microphone is muted)

    async def start_utterance(self) -> None: ...
    async def audio(self, pcm: bytes) -> None: ...
    async def end_utterance(self) -> str: ...
    async def handle(self, text: str) -> HubReply: ...
    async def close(self) -> None: ...


@dataclass
class SatelliteResult:
    """One utterance: what the hub heard, what was sent as a command, its answer, and the timings."""

    source: str
    transcript: str | None = None
    command: str | None = None
    handled: bool | None = None
    reply: str = ""
    reason: str | None = None
    error: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class _Current:
    started: float
    frames: int = 0
    buffered: list[bytes] = field(default_factory=list)
    error: str | None = None


class Satellite:
    """Runs until the source ends or ``stop()``; ``on_result`` gets every utterance's result."""

    def __init__(
        self,
        source: AudioSource,
        client: Link,
        settings: AudioSettings,
        speaker: Speaker | None = None,
        on_result: Callable[[SatelliteResult], None] | None = None,
        *,
        mute_while_speaking: bool = False,
    ) -> None:
        self.source = source
        self.client = client
        self.settings = settings
        self.speaker = speaker
        self.on_result = on_result
        self.mute_while_speaking = mute_while_speaking
        self.muted = False
        wake = settings.wake_phrase if settings.mode == "wake" and client.checks_wake else ""
        self.gate = WakeGate(wake, settings.wake_timeout_s)
        self._stopping = False
        self.stopped_by_signal = False
        self._current: _Current | None = None

    def stop(self) -> None:
        """End after the utterance in progress."""
        self._stopping = True

    async def run(self) -> None:
        """Capture and talk until the input ends; every task is awaited."""
        queue: asyncio.Queue[tuple[Event, float] | None] = asyncio.Queue(_QUEUE)
        tasks = [
            asyncio.create_task(self._capture(queue), name="capture"),
            asyncio.create_task(self._talk(queue), name="talk"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.close()

    async def _capture(self, out: asyncio.Queue[tuple[Event, float] | None]) -> None:
        endpointer = Endpointer(self.settings)
        try:
            async for frame in self.source.frames():
                if self._stopping and not endpointer.in_speech:
                    break
                if (self.muted or self.client.speaking) and self.mute_while_speaking:
                    endpointer = Endpointer(self.settings)
                    continue
                event = endpointer.push(frame)
                if event.kind != "none":
                    await out.put((event, time.perf_counter()))
            event = endpointer.flush()
            if event.kind != "none":
                await out.put((event, time.perf_counter()))
        finally:
            await out.put(None)

    async def _talk(self, inbox: asyncio.Queue[tuple[Event, float] | None]) -> None:
        while (item := await inbox.get()) is not None:
            await self._on(*item)

    async def _on(self, event: Event, at: float) -> None:
        if event.kind == "start":
            self._current = _Current(started=at)
            try:
                await self.client.start_utterance()
            except HubError as exc:
                self._current.error = str(exc)
        current = self._current
        if current is None:
            return
        current.frames += len(event.frames)
        current.buffered.extend(event.frames)
        if current.error is None and (len(current.buffered) >= _CHUNK_FRAMES or event.kind == "end"):
            chunk, current.buffered = b"".join(current.buffered), []
            try:
                await self.client.audio(chunk)
            except HubError as exc:
                current.error = str(exc)
        if event.kind == "end":
            self._current = None
            self._emit(await self._finish(current, at))

    async def _finish(self, current: _Current, speech_end: float) -> SatelliteResult:
        result = SatelliteResult(self.source.name, timings_ms={"audio": float(current.frames * FRAME_MS)})
        if current.error is not None:
            result.error = current.error
            return result
        try:
            result.transcript = await self.client.end_utterance()
            result.timings_ms["speech_end_to_transcript"] = _ms(speech_end)
            command, result.reason = self.gate.command(result.transcript)
            if result.reason is not None:
                return result
            result.command = command
            reply = await self.client.handle(command)
            result.timings_ms["speech_end_to_handled"] = _ms(speech_end)
            result.handled, result.reply = reply.handled, reply.text
        except HubError as exc:
            result.error = str(exc)
            return result
        await self._say(result.reply, result)
        return result

    async def _say(self, text: str, result: SatelliteResult) -> None:
        if self.speaker is None or not text:
            return
        start = time.perf_counter()
        self.muted = True
        try:
            await self.speaker.say(text)
        finally:
            self.muted = False
        result.timings_ms["speak"] = _ms(start)

    def _emit(self, result: SatelliteResult) -> None:
        log.info(
            "utterance from %s: transcript=%r command=%r handled=%s reply=%r reason=%s error=%s timings_ms=%s",
            result.source, result.transcript, result.command, result.handled, result.reply, result.reason,
            result.error, result.timings_ms,
        )  # fmt: skip
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # the listener's fault must not stop the satellite
                log.exception("on_result failed")


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
