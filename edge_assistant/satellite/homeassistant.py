"""The satellite as Home Assistant's Wyoming satellite: HA connects here and runs its own pipeline.

Home Assistant's Wyoming integration treats a Wyoming *satellite* as a device it connects to (as
it does with wyoming-satellite): it sends ``describe`` and ``run-satellite``, pings every two
seconds, and for each ``run-pipeline`` the satellite sends, it takes the ``audio-chunk`` events
that follow into its Assist pipeline (speech to text, the conversation agent, text to speech),
ends speech to text at ``audio-stop``, and sends back ``transcript``, ``synthesize`` (the reply
as text), the reply's audio (``audio-start``, ``audio-chunk``..., ``audio-stop``) and
``error``; it expects ``played`` when the reply has been played. Announcements are the same
audio events outside a pipeline.

:class:`HomeAssistantLink` serves that connection and gives the satellite loop the same calls as
:class:`~edge_assistant.satellite.client.HubClient`: an utterance starts a pipeline at speech to
text (or, with ``[audio] mode = "wake"``, at Home Assistant's own wake word: its wake engine
listens, since this satellite has no speech engine to hear a phrase with), its audio streams while
it is spoken, and ``handle`` waits for the reply that Home Assistant's pipeline produced.
Home Assistant acts on its own transcript, so this link never sends a command of its own
(``checks_wake`` is False). Replies and announcements are played here, with the microphone muted
(``speaking``), and answered with ``played``.

One Home Assistant at a time: a new connection replaces the old one, as wyoming-satellite does.
Its events are read with the hub's bounded reader; peers outside ``allow_clients`` are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import logging
import socket
import wave
from dataclasses import dataclass, field
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.server import AsyncEventHandler, AsyncServer, AsyncTcpServer
from wyoming.snd import Played
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection

from edge_assistant import __version__
from edge_assistant.audio import SAMPLE_RATE
from edge_assistant.errors import ConfigError, SpeechError
from edge_assistant.hub.protocol import (
    IdleTimeout,
    Limits,
    ProtocolError,
    RateLimit,
    client_allowed,
    event_cost,
    read_event,
)
from edge_assistant.satellite.client import HubError, HubReply
from edge_assistant.tts import Player

__all__ = ["HomeAssistantLink"]

log = logging.getLogger(__name__)
_WRITE_TIMEOUT_S = 10.0
# Home Assistant's pipeline errors that mean "no command in this utterance", not a fault.
# "duplicate_wake_up_detected": another satellite of the home heard the same wake word and answers.
_NOTHING_SAID = ("stt-no-text-recognized", "wake-word-timeout", "duplicate_wake_up_detected")
# After audio-stop, how long Home Assistant's wake engine may take to report the wake word it heard.
# Without one, its pipeline ends at the wake stage and it sends nothing more.
_DETECTION_GRACE_S = 1.5


# How long a reply's audio may take to arrive and play once Home Assistant has begun to speak it.
_REPLY_S = 60.0


async def _first_of(event: asyncio.Event, done: asyncio.Future[None], timeout_s: float) -> bool:
    """Whether ``event`` is set or ``done`` ends within ``timeout_s``."""
    waiter = asyncio.ensure_future(event.wait())
    either: set[asyncio.Future[Any]] = {waiter, done}
    try:
        finished, _ = await asyncio.wait(either, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    return bool(finished)


@dataclass
class _Run:
    """One pipeline run: what Home Assistant sent back for one utterance."""

    transcript: asyncio.Future[str]
    done: asyncio.Future[None]
    detected: asyncio.Event = field(default_factory=asyncio.Event)  # HA's wake engine heard its wake word
    listening: bool = False  # HA sent detect or transcribe: a stage of its pipeline takes the audio
    at_wake: bool = False  # the run starts at HA's wake word stage (a detection is to come)
    synthesized: asyncio.Event = field(default_factory=asyncio.Event)  # synthesize came: a voice follows
    reply: str = ""
    answered: bool = False  # synthesize came: the audio that follows is this run's reply
    error: str | None = None
    code: str | None = None  # Home Assistant's error code, when it sent an error
    stopped: bool = False  # audio-stop sent, or Home Assistant ended speech to text itself


@dataclass
class _Reply:
    """Reply audio being received."""

    rate: int
    width: int
    channels: int
    pcm: bytearray = field(default_factory=bytearray)


class HomeAssistantLink:
    """Serves Home Assistant's Wyoming satellite connection on ``uri``; the satellite loop's link."""

    checks_wake = False  # Home Assistant acts on its own transcript; no command is sent from here

    def __init__(
        self,
        uri: str,
        player: Player | None,
        *,
        name: str = "",
        remote_wake: bool = False,
        wake_timeout_s: float = 5.0,
        allow_clients: list[str] | tuple[str, ...] = (),
        timeout_s: float = 15.0,
        limits: Limits | None = None,
    ) -> None:
        self.uri = uri
        self.player = player
        self.name = name or socket.gethostname()
        self.remote_wake = remote_wake
        self.wake_timeout_s = wake_timeout_s
        self._woken_until: float | None = None  # HA heard its wake word alone: the next utterance is the command
        self.timeout_s = timeout_s
        self.limits = limits or Limits()
        self.speaking = False
        self._allowed = [ipaddress.ip_network(a, strict=False) for a in allow_clients]
        self._handler: _HomeAssistant | None = None
        self._running = asyncio.Event()  # run-satellite received and not paused
        self._run: _Run | None = None
        self._server: AsyncServer | None = None
        self._plays: set[asyncio.Task[None]] = set()

    # ---- the server ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``uri``; ConfigError when the address cannot be bound."""
        server = AsyncServer.from_uri(self.uri)
        assert isinstance(server, AsyncTcpServer)
        try:
            await server.start(self._connect)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.uri}: {exc.strerror or exc}", field="satellite.serve") from exc
        self._server = server
        log.info("waiting for Home Assistant on %s", self.uri)

    async def wait_ready(self, timeout_s: float) -> None:
        """Until Home Assistant has connected and sent ``run-satellite``; HubError after ``timeout_s``."""
        try:
            await asyncio.wait_for(self._running.wait(), timeout_s)
        except asyncio.TimeoutError:
            raise HubError(f"Home Assistant did not connect to {self.uri} within {timeout_s:g} s") from None

    async def stop(self) -> None:
        """Stop listening and close Home Assistant's connection, after the replies being played."""
        if self._plays:
            await asyncio.gather(*self._plays, return_exceptions=True)
        if self._handler is not None:
            self._handler.writer.close()
        if self._server is not None:
            await self._server.stop()
            self._server = None

    def info(self) -> Info:
        """The ``info`` event: this program as a satellite."""
        return Info(
            satellite=Satellite(
                name=self.name,
                attribution=Attribution(name="edge-assistant", url="https://github.com/edge-assistant/edge-assistant"),
                installed=True,
                description="edge-assistant satellite: microphone, endpointing and the reply's playback",
                version=__version__,
                has_vad=True,
                supports_trigger=False,
            )
        )

    def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncEventHandler:
        peer = writer.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        handler = _HomeAssistant(self, reader, writer)
        if self._allowed and not client_allowed(host, self._allowed):
            log.warning("refused a connection from %s: not in [satellite] allow_clients", host)
            handler.refused = True
            return handler
        old, self._handler = self._handler, handler
        if old is not None:
            log.info("a new Home Assistant connection replaces the one from %s", old.peer)
            old.writer.close()
        self._running.clear()
        self._fail_run("Home Assistant reconnected")
        return handler

    # ---- the satellite loop's calls -----------------------------------------------------------

    async def start_utterance(self) -> None:
        """Start a pipeline run for the utterance that begins; HubError when Home Assistant is not there."""
        handler = self._handler
        if handler is None or not self._running.is_set():
            raise HubError(f"Home Assistant has not connected to {self.uri} (or paused this satellite)")
        loop = asyncio.get_running_loop()
        self._run = _Run(transcript=loop.create_future(), done=loop.create_future())
        # "Hey Jarvis ... turn on the light": the pause ended the utterance after the wake word, so
        # the command that follows within wake_timeout_s starts at speech to text, as a satellite
        # that heard the wake word itself would send it.
        woken = self._woken_until is not None and loop.time() <= self._woken_until
        self._woken_until = None
        start = PipelineStage.WAKE if self.remote_wake and not woken else PipelineStage.ASR
        self._run.at_wake = start == PipelineStage.WAKE
        end = PipelineStage.TTS if self.player is not None else PipelineStage.HANDLE
        await self._send(RunPipeline(start_stage=start, end_stage=end).event())

    def _no_wake_stage(self, run: _Run) -> None:
        """Warn, once per connection, when Home Assistant started no wake stage for a run: its
        pipeline has no wake word engine, and it says nothing of that to the satellite."""
        handler = self._handler
        if handler is not None and not run.listening and not handler.warned_wake:
            handler.warned_wake = True
            log.warning(
                "Home Assistant started no wake word detection for this satellite's utterance: give its "
                'Assist pipeline a wake word engine (e.g. openWakeWord), or set [audio] mode = "vad"'
            )

    async def audio(self, pcm: bytes) -> None:
        """Stream a chunk, until Home Assistant's speech to text has ended."""
        run = self._run
        if run is not None and not run.stopped:
            await self._send(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm).event())

    async def end_utterance(self) -> str:
        """End the audio; Home Assistant's transcript ("" when it heard nothing, or no wake word)."""
        run = self._current()
        if not run.stopped:
            run.stopped = True
            await self._send(AudioStop().event())
        # An error of Home Assistant's (another satellite woke) ends the wait for the wake word as
        # the detection does; with neither (nor a disconnect) its run ended at its wake stage.
        if run.at_wake and not run.transcript.done():
            ended = await _first_of(run.detected, run.done, _DETECTION_GRACE_S)
            if not ended or (not run.detected.is_set() and run.code is None):
                self._run = None  # no wake word heard: no command
                if not ended:
                    self._no_wake_stage(run)
                return ""
        try:
            text = await asyncio.wait_for(asyncio.shield(run.transcript), self.timeout_s)
        except asyncio.TimeoutError:
            self._run = None
            raise HubError(f"no transcript from Home Assistant within {self.timeout_s:g} s") from None
        if run.error is not None and not text:
            self._run = None
            if not run.error.startswith("nothing said"):
                raise HubError(run.error)
            if run.detected.is_set() and run.code != "duplicate_wake_up_detected":
                self._woken_until = asyncio.get_running_loop().time() + self.wake_timeout_s
        return text

    async def handle(self, text: str) -> HubReply:
        """Home Assistant's answer to the utterance it transcribed (it acted on its own transcript, not
        on ``text``): the reply once played. Whether it acted is not known here (Home Assistant does
        not say), so ``handled`` is None. An answer with no speech ("never mind" to its own agent) has
        no voice: when no ``synthesize`` comes within ``timeout_s``, there is no reply to wait for."""
        run = self._current()
        try:
            if self.player is None:
                return HubReply(None, "")
            if not await _first_of(run.synthesized, run.done, self.timeout_s):
                return HubReply(None, "")  # its pipeline ended without a voice
            waited = _REPLY_S + self.timeout_s
            try:  # the reply's audio follows synthesize, and is played before done
                await asyncio.wait_for(asyncio.shield(run.done), waited)
            except asyncio.TimeoutError:
                raise HubError(f"no reply audio from Home Assistant within {waited:g} s") from None
        finally:
            if self._run is run:
                self._run = None
        if run.error is not None:
            raise HubError(run.error)
        return HubReply(None, run.reply)

    async def close(self) -> None:
        """End of one source: the connection to Home Assistant stays (``stop`` ends it)."""
        self._fail_run("the audio source ended")

    # ---- events from Home Assistant -----------------------------------------------------------

    async def on_event(self, handler: _HomeAssistant, event: Event) -> None:
        """One event from the connected Home Assistant."""
        if handler is not self._handler:
            return
        run = self._run
        if Describe.is_type(event.type):
            await self._send(self.info().event())
        elif Ping.is_type(event.type):
            await self._send(Pong(text=Ping.from_event(event).text).event())
        elif RunSatellite.is_type(event.type):
            log.info("Home Assistant at %s runs this satellite", handler.peer)
            self._running.set()
        elif PauseSatellite.is_type(event.type):
            log.info("Home Assistant paused this satellite")
            self._running.clear()
            self._fail_run("Home Assistant paused this satellite")
        elif Transcript.is_type(event.type):
            if run is not None and not run.transcript.done():
                run.stopped = True  # its own voice detection ended speech to text first
                run.transcript.set_result(Transcript.from_event(event).text)
        elif Detect.is_type(event.type) or Transcribe.is_type(event.type):
            if run is not None:
                run.listening = True
        elif Detection.is_type(event.type):
            log.info("Home Assistant heard its wake word %r", Detection.from_event(event).name)
            if run is not None:
                run.detected.set()
        elif Synthesize.is_type(event.type):
            if run is not None:
                run.reply = Synthesize.from_event(event).text
                run.answered = True
                run.synthesized.set()
        elif Error.is_type(event.type):
            error = Error.from_event(event)
            log.info("Home Assistant's pipeline: %s (%s)", error.text, error.code)
            if run is not None:
                run.code = error.code
            if error.code in _NOTHING_SAID:
                self._end_run(f"nothing said: {error.text}")
            else:
                self._end_run(f"Home Assistant answered with an error: {error.text} ({error.code})")
        elif AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
            handler.reply = _Reply(start.rate, start.width, start.channels)
        elif AudioChunk.is_type(event.type):
            if handler.reply is not None:
                handler.reply.pcm += AudioChunk.from_event(event).audio
        elif AudioStop.is_type(event.type):
            reply, handler.reply = handler.reply, None
            if reply is not None:  # the run's reply, or an announcement (audio with no synthesize before it)
                task = asyncio.create_task(self._play(reply, run if run is not None and run.answered else None))
                self._plays.add(task)
                task.add_done_callback(self._plays.discard)
        else:
            log.debug("Home Assistant sent %s", event.type)

    async def _play(self, reply: _Reply, run: _Run | None) -> None:
        """Play the reply (or an announcement), then tell Home Assistant it was played."""
        self.speaking = True
        try:
            if self.player is not None and reply.pcm:
                await self.player.play(_wav(reply))
        except (SpeechError, OSError) as exc:
            log.warning("cannot play Home Assistant's audio: %s", exc)
        finally:
            self.speaking = False
        if run is not None and not run.done.done():
            if not run.transcript.done():
                run.transcript.set_result("")
            run.done.set_result(None)
        with contextlib.suppress(HubError):
            await self._send(Played().event())

    def disconnected(self, handler: _HomeAssistant) -> None:
        """Home Assistant's connection ended."""
        if handler is self._handler:
            self._handler = None
            self._running.clear()
            self._fail_run("Home Assistant disconnected")

    # ---- helpers ------------------------------------------------------------------------------

    def _current(self) -> _Run:
        if self._run is None:
            raise HubError("Home Assistant's pipeline for this utterance has ended")
        return self._run

    def _end_run(self, error: str) -> None:
        run = self._run
        if run is None or run.done.done():
            return
        run.error = error
        run.stopped = True
        if not run.transcript.done():
            run.transcript.set_result("")
        if not run.done.done():
            run.done.set_result(None)

    def _fail_run(self, reason: str) -> None:
        self._end_run(reason)
        self._run = None

    async def _send(self, event: Event) -> None:
        handler = self._handler
        if handler is None:
            raise HubError(f"Home Assistant is not connected to {self.uri}")
        try:
            await asyncio.wait_for(async_write_event(event, handler.writer), _WRITE_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError, RuntimeError) as exc:
            handler.writer.close()
            self.disconnected(handler)
            raise HubError(f"lost Home Assistant's connection: {exc or type(exc).__name__}") from exc


class _HomeAssistant(AsyncEventHandler):
    """One connection from Home Assistant, read within the limits; its events go to the link."""

    def __init__(self, link: HomeAssistantLink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.link = link
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "local"
        self.refused = False
        self.warned_wake = False  # said once that Home Assistant has no wake word engine for this satellite
        self.reply: _Reply | None = None
        self._rate = RateLimit(link.limits.max_events_per_s)

    async def handle_event(self, event: Event) -> bool:
        """Never called: ``run`` reads with the bounded reader."""
        return False

    async def run(self) -> None:
        """Read events until Home Assistant leaves or breaks the protocol."""
        try:
            if self.refused:
                await self._error("client-not-allowed", "this satellite does not serve your address")
                return
            while True:
                try:
                    event = await read_event(self.reader, self.link.limits)
                except ProtocolError as exc:
                    log.warning("closing Home Assistant's connection from %s: %s", self.peer, exc.text)
                    await self._error(exc.code, exc.text)
                    return
                except IdleTimeout:
                    log.warning("Home Assistant at %s was silent for %g s", self.peer, self.link.limits.idle_timeout_s)
                    return
                except (ConnectionError, asyncio.IncompleteReadError):
                    return
                if event is None:
                    return
                if not self._rate.allow(event_cost(event)):
                    await self._error("too-many-events", "over the event rate limit")
                    return
                try:
                    await self.link.on_event(self, event)
                except HubError as exc:
                    log.warning("%s", exc)
                    return
                except (KeyError, TypeError, ValueError) as exc:  # an event whose data does not fit its type
                    await self._error("malformed-event", f"a {event.type} event that does not fit: {exc}")
                    return
        finally:
            self.link.disconnected(self)
            self.writer.close()

    async def _error(self, code: str, text: str) -> None:
        with contextlib.suppress(OSError, asyncio.TimeoutError, RuntimeError):
            await asyncio.wait_for(async_write_event(Error(text=text, code=code).event(), self.writer), 2.0)


def _wav(reply: _Reply) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setframerate(reply.rate)
        out.setsampwidth(reply.width)
        out.setnchannels(reply.channels)
        out.writeframes(bytes(reply.pcm))
    return buffer.getvalue()
