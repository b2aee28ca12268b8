"""One Wyoming connection: its events in, the hub's answers out, its own dialogue and utterance.

``HubHandler`` reads with the bounded reader of :mod:`edge_assistant.hub.protocol`; a broken or
over-limit event gets an ``error`` event and closes this connection only. Everything that costs
CPU (decoding, parsing, synthesis) runs in worker threads or subprocesses through the shared
``Hub``, so one client never stalls the loop the others are served on.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
import wave
from functools import partial
from typing import TYPE_CHECKING, Any

from wyoming import asr
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize

from edge_assistant.assistant import command_scorer, heard_hypotheses
from edge_assistant.audio.convert import PcmConverter, check_format
from edge_assistant.errors import AudioSourceError, SpeechError
from edge_assistant.hub.asr import UtteranceDecode
from edge_assistant.hub.protocol import IdleTimeout, ProtocolError, RateLimit, event_cost, read_event

if TYPE_CHECKING:
    from edge_assistant.events import Transcript
    from edge_assistant.hub.server import Hub

__all__ = ["HubHandler", "Refusal"]

log = logging.getLogger(__name__)
_WRITE_TIMEOUT_S = 10.0
_BYTES_PER_S = 32000  # 16 kHz mono S16LE
_MAX_TTS_CHARS = 1000
_TTS_CHUNK_FRAMES = 1024
_NOT_HEARD = "Sorry, I did not hear a command."


class _PeerNotReading(Exception):
    """A write did not drain within the timeout: the client stopped reading."""


def peer_of(writer: asyncio.StreamWriter) -> str:
    """The client's address as text, for the log."""
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer or "local")


async def _write(event: Event, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(async_write_event(event, writer), _WRITE_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise _PeerNotReading from None


class Refusal(AsyncEventHandler):
    """A connection the hub will not serve (too many clients, a peer not allowed): one error, then closed."""

    def __init__(self, code: str, text: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.error = Error(text=text, code=code)

    async def handle_event(self, event: Event) -> bool:
        """Never called: ``run`` answers before reading."""
        return False

    async def run(self) -> None:
        """Send the error event and close."""
        try:
            await _write(self.error.event(), self.writer)
        except (ConnectionError, _PeerNotReading):
            pass
        finally:
            self.writer.close()


class HubHandler(AsyncEventHandler):
    """Serves one client: describe, asr, handle, intent and tts events, in the order they come."""

    def __init__(self, hub: Hub, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.hub = hub
        self.peer = peer_of(writer)
        self.dialogue = hub.assistant.new_dialogue()
        self._rate = RateLimit(hub.limits.max_events_per_s)
        self._converter = PcmConverter()
        self._decode: UtteranceDecode | None = None
        self._language: str | None = None
        self._asr_context: dict[str, Any] | None = None
        self._adaptation: str | None = None  # the speech engine's, for this connection's microphone
        self._heard: Transcript | None = None  # the last utterance's, until a handle of its text

    async def write_event(self, event: Event) -> None:
        """Send ``event``; a client that stops reading is dropped rather than waited for."""
        await _write(event, self.writer)

    async def run(self) -> None:
        """Serve events until the client leaves, breaks the protocol or the hub stops."""
        self.hub.clients.add(self)
        try:
            await self._serve()
        finally:
            self.hub.clients.discard(self)
            self._drop_utterance()
            self.writer.close()

    async def _serve(self) -> None:
        limits = self.hub.limits
        while True:
            try:
                event = await read_event(self.reader, limits)
                if event is None:
                    return
                if not self._rate.allow(event_cost(event)):
                    raise ProtocolError("too-many-events", f"more than {limits.max_events_per_s:g} events per second")
                await self.handle_event(event)
            except IdleTimeout:
                await self._close_with("idle-timeout", f"no event for {limits.idle_timeout_s:g} s; closing")
                return
            except ProtocolError as exc:
                log.warning("client %s: %s (%s); closing its connection", self.peer, exc.text, exc.code)
                await self._close_with(exc.code, exc.text)
                return
            except (ConnectionError, _PeerNotReading):
                return
            except Exception:  # a stage boundary: this client's fault or ours, never the others'
                log.exception("client %s: event failed", self.peer)
                await self._close_with("internal-error", "the hub failed on this event; see its log")
                return

    async def _close_with(self, code: str, text: str) -> None:
        self.hub.count_error(code)
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError, RuntimeError):
            await asyncio.wait_for(async_write_event(Error(text=text, code=code).event(), self.writer), 1.0)

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; unknown types are ignored, as Wyoming servers do."""
        kind = event.type
        if Describe.is_type(kind):
            await self.write_event(self.hub.info_event)
        elif Ping.is_type(kind):
            await self.write_event(Pong(text=event.data.get("text")).event())
        elif asr.Transcribe.is_type(kind):
            self._transcribe(event)
        elif AudioStart.is_type(kind) or AudioChunk.is_type(kind):
            self._audio(event)
        elif AudioStop.is_type(kind):
            await self._audio_stop()
        elif asr.Transcript.is_type(kind):
            await self._handle(_text(event), _context(event))
        elif Recognize.is_type(kind):
            await self._recognize(_text(event), _context(event))
        elif Synthesize.is_type(kind):
            await self._synthesize(_text(event))
        else:
            log.debug("client %s: ignored a %r event", self.peer, kind)
        return True

    # -- asr ------------------------------------------------------------------------------------
    def _transcribe(self, event: Event) -> None:
        self._drop_utterance()
        language = event.data.get("language")
        self._language = language if isinstance(language, str) else None
        self._asr_context = _context(event)

    def _audio(self, event: Event) -> None:
        data = event.data
        try:
            rate, width, channels = check_format(data.get("rate"), data.get("width"), data.get("channels"))
        except AudioSourceError as exc:
            raise ProtocolError("bad-audio", str(exc)) from None
        if self._decode is None:
            self._decode = UtteranceDecode(self.hub.pool, self.hub.adaptation_of(self._asr_context) or self._adaptation)
            self._converter = PcmConverter()
        if event.payload:
            self._decode.feed(self._converter.push(event.payload, rate, width, channels))
        if self._decode.bytes > self.hub.settings.max_utterance_s * _BYTES_PER_S:
            raise ProtocolError("utterance-too-long", f"over {self.hub.settings.max_utterance_s:g} s of audio")

    async def _audio_stop(self) -> None:
        decode, self._decode = self._decode, None
        if decode is None:
            await self.write_event(asr.Transcript(text="", language=self._language).event())
            return
        stopped = time.perf_counter()
        try:
            transcript = await decode.finish()
        except SpeechError as exc:
            log.error("client %s: speech to text failed: %s", self.peer, exc)
            await self.write_event(Error(text=f"speech to text failed: {exc}", code="asr-failed").event())
            return
        self._adaptation = decode.adaptation
        self.hub.keep_adaptation(self._asr_context, decode.adaptation)
        dialogue = self.hub.dialogue_for(self._asr_context, self.dialogue)
        text = await asyncio.to_thread(self.hub.command_text, transcript, dialogue)
        self._heard = transcript
        log.info(
            "client %s: transcript %r (engine said %r, in grammar %s) audio_ms=%d stop_to_text_ms=%.1f",
            self.peer, text, transcript.text, transcript.in_grammar, decode.bytes * 1000 // _BYTES_PER_S,
            (time.perf_counter() - stopped) * 1000,
        )  # fmt: skip
        await self.write_event(asr.Transcript(text=text, language=self._language or "en").event())

    def _drop_utterance(self) -> None:
        if self._decode is not None:
            self._decode.abandon()
            self._decode = None

    # -- handle and intent ----------------------------------------------------------------------
    async def _handle(self, text: str, context: dict[str, Any] | None) -> None:
        reply_context = _reply_context(context)
        if not text.strip():
            await self.write_event(NotHandled(text=_NOT_HEARD, context=reply_context).event())
            return
        dialogue = self.hub.dialogue_for(context, self.dialogue)
        # A Wyoming transcript is a voice pipeline's: heard speech, with the model's floor for it.
        # When it is the text this connection's asr just heard, a name missed can be weighed on the audio.
        score, hypotheses = command_scorer(self._heard, text), heard_hypotheses(self._heard, text)
        self._heard = None
        turn = await self.hub.assistant.handle_async(
            text, dialogue=dialogue, speak=False, heard=True, score=score, hypotheses=hypotheses
        )
        parse = turn.parse
        log.info(
            "client %s: %r -> intent=%s targets=%s handled=%s reply=%r timings_ms=%s",
            self.peer, text, parse.intent, parse.targets, turn.handled, turn.reply, turn.timings_ms,
        )  # fmt: skip
        if turn.handled:
            await self.write_event(Handled(text=turn.reply, context=reply_context).event())
        else:
            reason = turn.reply or (f"Sorry, {parse.reason}." if parse.reason else "Sorry, I did not understand.")
            await self.write_event(NotHandled(text=reason, context=reply_context).event())

    async def _recognize(self, text: str, context: dict[str, Any] | None) -> None:
        dialogue = self.hub.dialogue_for(context, self.dialogue)
        floor = self.hub.assistant.heard_floor
        result = await asyncio.to_thread(partial(self.hub.assistant.parse, min_confidence=floor), text, dialogue)
        reply_context = {**(_reply_context(context) or {}), "confidence": result.confidence, "source": result.source}
        if result.intent is None:
            await self.write_event(NotRecognized(text=result.reason or "not recognized", context=reply_context).event())
            return
        entities = [Entity(name=name, value=value) for name, value in result.slots.items()]
        if result.targets:
            entities.append(Entity(name="targets", value=list(result.targets)))
        await self.write_event(Intent(name=result.intent, entities=entities, context=reply_context).event())

    # -- tts ------------------------------------------------------------------------------------
    async def _synthesize(self, text: str) -> None:
        synth = self.hub.synth
        if synth is None:
            await self.write_event(Error(text="this hub has no [tts] engine", code="tts-unavailable").event())
            return
        if len(text) > _MAX_TTS_CHARS:
            await self.write_event(Error(text=f"over {_MAX_TTS_CHARS} characters", code="text-too-long").event())
            return
        try:
            wav = await synth.synthesize(text)
        except (SpeechError, OSError) as exc:
            await self.write_event(Error(text=f"speech synthesis failed: {exc}", code="tts-failed").event())
            return
        for event in wav_events(wav):
            await self.write_event(event)


def wav_events(wav: bytes) -> list[Event]:
    """``audio-start``, the ``audio-chunk`` events and ``audio-stop`` of a WAV file."""
    with wave.open(io.BytesIO(wav), "rb") as reader:
        rate, width, channels = reader.getframerate(), reader.getsampwidth(), reader.getnchannels()
        events = [AudioStart(rate=rate, width=width, channels=channels, timestamp=0).event()]
        sent = 0
        while chunk := reader.readframes(_TTS_CHUNK_FRAMES):
            events.append(AudioChunk(rate, width, channels, chunk, timestamp=sent * 1000 // rate).event())
            sent += len(chunk) // (width * channels)
    events.append(AudioStop(timestamp=sent * 1000 // rate).event())
    return events


def _text(event: Event) -> str:
    text = event.data.get("text")
    if not isinstance(text, str):
        raise ProtocolError("malformed-event", f"a {event.type} event needs 'text' as a string")
    return text


def _context(event: Event) -> dict[str, Any] | None:
    context = event.data.get("context")
    if context is not None and not isinstance(context, dict):
        raise ProtocolError("malformed-event", f"'context' of a {event.type} event is not an object")
    return context


def _reply_context(context: dict[str, Any] | None) -> dict[str, Any] | None:
    """The caller's conversation id, echoed so that it can answer a question in the same conversation."""
    if context and isinstance(context.get("conversation_id"), str):
        return {"conversation_id": context["conversation_id"]}
    return None
