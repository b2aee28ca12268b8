"""The live loop: audio -> end of utterance -> transcript -> intent -> dispatch, one asyncio pipeline.

Three tasks joined by bounded queues of small frozen messages: ``capture`` (reads the source;
noise suppression when ``[audio] noise_suppression`` is on; endpointing), ``recognize`` (owns the
speech engine; decoding in a worker thread) and ``understand`` (hands the command text to the
``Assistant``, which parses, dispatches and replies; the microphone is muted while the reply is
spoken). Each utterance gets an id and timestamps
per stage, logged as one INFO line and handed to ``on_utterance`` as an ``UtteranceRecord``. A
fault in one utterance is logged with its id and the loop goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_assistant.assistant import Assistant, command_scorer
from edge_assistant.audio import FRAME_MS, SAMPLE_RATE, AudioSettings
from edge_assistant.audio.denoise import NoiseSuppressor
from edge_assistant.audio.endpoint import Endpointer, Event
from edge_assistant.audio.sources import AudioSource
from edge_assistant.audio.wake import WakeGate
from edge_assistant.events import IntentResult, Transcript, UtteranceRecord, hand_over
from edge_assistant.stt import Session, Transcriber

if TYPE_CHECKING:
    from edge_assistant.config import Settings
    from edge_assistant.nlu.parser import Parser

__all__ = ["Pipeline", "build_pipeline", "build_transcriber"]

log = logging.getLogger(__name__)
_QUEUE = 256
_MAX_BATCH = 50


@dataclass
class _Utterance:
    id: str
    source: str
    started_at: float
    frames: int = 0
    end_reason: str = ""
    audio: bytearray | None = None  # kept only when recording for debugging
    t: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Start:
    """Speech began: a new utterance (capture → recognize)."""

    utterance: _Utterance


@dataclass(frozen=True)
class _Audio:
    """Audio of the utterance in progress, 16 kHz mono S16LE (capture → recognize)."""

    pcm: bytes


@dataclass(frozen=True)
class _End:
    """Speech ended (capture → recognize)."""

    utterance: _Utterance


@dataclass(frozen=True)
class _Heard:
    """The utterance's transcript, or why there is none (recognize → understand)."""

    utterance: _Utterance
    transcript: Transcript | None
    error: str | None


_Sound = _Start | _Audio | _End


class Pipeline:
    """The pipeline over one source; ``run()`` returns when the source ends or after ``stop()``."""

    def __init__(
        self,
        source: AudioSource,
        transcriber: Transcriber,
        assistant: Assistant,
        settings: AudioSettings | None = None,
        on_utterance: Callable[[UtteranceRecord], None] | None = None,
    ) -> None:
        self.source = source
        self.transcriber = transcriber
        self.assistant = assistant
        self.settings = settings or AudioSettings()
        self.on_utterance = on_utterance
        # --debug-record-dir: each utterance's audio is kept as <id>.wav (the daemon adds <id>.json).
        self.record_dir: Path | None = None
        self.muted = False
        self.talking = False  # push-to-talk button state
        self._stopping = False
        self._capture_task: asyncio.Task[None] | None = None
        self._in_speech = False
        wake = self.settings.wake_phrase if self.settings.mode == "wake" else ""
        self._wake = WakeGate(wake, self.settings.wake_timeout_s)

    def stop(self) -> None:
        """Finish the utterance in progress, then make ``run()`` return.

        Between utterances the wait for the next audio frame is cancelled, so a quiet stdin or
        microphone does not hold the stop up.
        """
        self._stopping = True
        if self._capture_task is not None and not self._in_speech:
            self._capture_task.cancel()

    def swap_assistant(self, assistant: Assistant, transcriber: Transcriber | None = None) -> None:
        """Use ``assistant`` (and the speech engine with its home's names) from the next utterance on."""
        self.assistant = assistant
        if transcriber is not None:
            self.transcriber = transcriber

    def press(self) -> None:
        """Push-to-talk: the button went down."""
        self.talking = True

    def release(self) -> None:
        """Push-to-talk: the button came up."""
        self.talking = False

    async def run(self) -> None:
        """Run the three stages until the source ends or ``stop()``; every task is awaited."""
        audio: asyncio.Queue[_Sound | None] = asyncio.Queue(_QUEUE)
        texts: asyncio.Queue[_Heard | None] = asyncio.Queue(_QUEUE)
        self._capture_task = asyncio.create_task(self._capture(audio), name="capture")
        tasks = [
            self._capture_task,
            asyncio.create_task(self._recognize(audio, texts), name="recognize"),
            asyncio.create_task(self._understand(texts), name="understand"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- stage 1: audio and endpointing -------------------------------------------------------
    async def _capture(self, out: asyncio.Queue[_Sound | None]) -> None:
        endpointer = Endpointer(self.settings)
        suppressor = NoiseSuppressor(self.settings.suppression_floor_db) if self.settings.noise_suppression else None
        current: _Utterance | None = None
        try:
            async for frame in self.source.frames():
                if suppressor is not None:
                    frame = suppressor.process(frame)
                if self._stopping and current is None:
                    break
                if self.muted:
                    endpointer = Endpointer(self.settings)
                    continue
                event = self._endpoint(endpointer, frame, current is not None)
                current = await self._forward(event, current, out)
                self._in_speech = current is not None
            if current is not None:
                await self._forward(Event("end", reason="end of input"), current, out)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() while waiting for audio: end as at the end of the input
        finally:
            self._in_speech = False
            await out.put(None)

    def _endpoint(self, endpointer: Endpointer, frame: bytes, in_speech: bool) -> Event:
        if self.settings.mode != "push_to_talk":
            return endpointer.push(frame)
        if self.talking:
            return Event("audio", (frame,)) if in_speech else Event("start", (frame,))
        return Event("end", reason="button released") if in_speech else Event("none")

    async def _forward(
        self, event: Event, current: _Utterance | None, out: asyncio.Queue[_Sound | None]
    ) -> _Utterance | None:
        now = time.perf_counter()
        if event.kind == "start":
            current = _Utterance(uuid.uuid4().hex[:8], self.source.name, time.time(), t={"speech_start": now})
            if self.record_dir is not None:
                current.audio = bytearray()
            await out.put(_Start(current))
        if current is None or event.kind == "none":
            return current
        if event.frames:
            current.frames += len(event.frames)
            if current.audio is not None:
                current.audio += b"".join(event.frames)
            await out.put(_Audio(b"".join(event.frames)))
        if event.kind == "end":
            current.end_reason = event.reason
            current.t["speech_end"] = now
            await out.put(_End(current))
            return None
        return current

    # -- stage 2: speech to text ----------------------------------------------------------------
    async def _recognize(self, inbox: asyncio.Queue[_Sound | None], out: asyncio.Queue[_Heard | None]) -> None:
        session: Session | None = None
        failed: str | None = None
        async for item in _batched(inbox):
            try:
                if isinstance(item, _Start):
                    session, failed = await asyncio.to_thread(self.transcriber.start), None
                elif isinstance(item, _Audio) and session is not None and failed is None:
                    await asyncio.to_thread(session.accept, item.pcm)
                elif isinstance(item, _End) and session is not None:
                    item.utterance.t["stt_end"] = time.perf_counter()
                    transcript = None if failed else await asyncio.to_thread(session.finish)
                    item.utterance.t["transcript"] = time.perf_counter()
                    session = None
                    await out.put(_Heard(item.utterance, transcript, failed))
            except Exception as exc:  # a stage boundary: one bad utterance must not stop the loop
                utterance = item.utterance.id if isinstance(item, (_Start, _End)) else "?"
                log.exception("speech-to-text failed on utterance %s", utterance)
                failed = f"speech-to-text failed: {exc}"
                if isinstance(item, _End):
                    item.utterance.t["transcript"] = time.perf_counter()
                    session = None
                    await out.put(_Heard(item.utterance, None, failed))
        await out.put(None)

    # -- stage 3: intent, dispatch, reply -------------------------------------------------------
    async def _understand(self, inbox: asyncio.Queue[_Heard | None]) -> None:
        while (item := await inbox.get()) is not None:
            utt = item.utterance
            record = UtteranceRecord(id=utt.id, started_at=utt.started_at, file=utt.source, error=item.error)
            try:
                record = await self._finish(utt, item.transcript, record)
            except Exception as exc:  # a stage boundary: log with the id and go on
                log.exception("utterance %s failed", utt.id)
                record = record.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
            self._emit(utt, record)

    async def _finish(self, utt: _Utterance, transcript: Transcript | None, record: UtteranceRecord) -> UtteranceRecord:
        if transcript is None:
            return record
        extra = transcript.extra
        record = record.model_copy(
            update={
                "early_decodes": int(extra.get("early_decodes", 0)),
                "heard_early": bool(extra.get("decoded_early")),
            }
        )
        text, reason = self._command_text(transcript)
        if reason is not None:
            # Noise and off-grammar speech never reach the assistant (nor a pending confirmation).
            utt.t["intent"] = time.perf_counter()
            result = IntentResult(text=text, reason=reason)
            return record.model_copy(update={"transcript": transcript.text, "parse": result})
        chose = time.perf_counter()
        alternatives = self._alternatives(transcript, text)
        hypotheses = [text, *alternatives]
        if alternatives:  # which of the engine's hypotheses to act on is part of understanding it
            text = await asyncio.to_thread(self.assistant.choose_heard, text, alternatives)
        begin = time.perf_counter()
        score = command_scorer(transcript, text)
        turn = await self.assistant.handle_async(
            text, utterance_id=utt.id, speak=False, heard=True, score=score, hypotheses=hypotheses
        )
        utt.t["nlu"] = turn.timings_ms["nlu"] + (begin - chose) * 1000
        utt.t["intent"] = begin + turn.timings_ms["nlu"] / 1000
        if "dispatch" in turn.timings_ms:
            utt.t["dispatched"] = utt.t["intent"] + turn.timings_ms["dispatch"] / 1000
        await self._say(turn.reply)
        return record.model_copy(update={"transcript": transcript.text, "parse": turn.parse, "actions": turn.actions})

    def _command_text(self, transcript: Transcript) -> tuple[str, str | None]:
        """The text to parse, or a reason not to: off-grammar speech, no wake phrase, nothing heard."""
        words = transcript.text.split()
        if not words:
            return "", "nothing heard"
        if not transcript.in_grammar:
            return transcript.text, "not a command (speech outside the grammar)"
        text, reason = self._wake.command(transcript.text, bool(transcript.extra.get("wake")))
        score = transcript.score
        # "There's no board" for "Snowboy" said alone in noise: the audio may say the phrase.
        if reason == "no wake phrase" and score is not None and self._wake.said_on_audio(transcript.text, score):
            log.info("heard %r: the audio says the wake phrase alone as well", transcript.text)
            return self._wake.command("", heard_wake=True)
        return text, reason

    def _alternatives(self, transcript: Transcript, command: str) -> list[str]:
        """The engine's other hypotheses as commands: cut after the wake phrase as the transcript was."""
        alternatives: list[str] = list(transcript.extra.get("alternatives") or ())
        if command == transcript.text or not alternatives:
            return alternatives
        cut = (self._wake.strip(text) for text in alternatives)
        return [text for text in cut if text]

    async def _say(self, reply: str) -> None:
        if self.assistant.speaker is None or not reply:
            return
        self.muted = True  # the assistant must not hear itself
        try:
            await self.assistant.say(reply)
        finally:
            self.muted = False

    def _keep_audio(self, utt: _Utterance) -> None:
        if self.record_dir is None or not utt.audio:
            return
        try:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            with wave.open(str(self.record_dir / f"{utt.id}.wav"), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(SAMPLE_RATE)
                out.writeframes(bytes(utt.audio))
        except OSError as exc:  # a full disk must not stop the loop
            log.warning("cannot keep the audio of %s: %s", utt.id, exc)

    def _emit(self, utt: _Utterance, record: UtteranceRecord) -> None:
        self._keep_audio(utt)
        timings = _timings(utt)
        record = record.model_copy(update={"timings_ms": timings})
        parse = record.parse
        log.info(
            "utterance %s source=%s audio_ms=%d end=%s transcript=%r heard_early=%s intent=%s targets=%s "
            "reason=%s timings_ms=%s",
            utt.id, utt.source, utt.frames * FRAME_MS, utt.end_reason, record.transcript, record.heard_early,
            parse.intent, parse.targets, parse.reason or record.error, timings,
        )  # fmt: skip
        hand_over(self.on_utterance, record)


async def _batched(inbox: asyncio.Queue[_Sound | None]) -> AsyncIterator[_Sound]:
    """The queue's items until its end marker, with audio already waiting joined into one chunk,
    so that a decoder that fell behind catches up in few thread hops."""
    item = await inbox.get()
    while item is not None:
        if not isinstance(item, _Audio):
            yield item
            item = await inbox.get()
            continue
        chunks: list[bytes] = [item.pcm]
        pulled = False
        while not inbox.empty() and len(chunks) < _MAX_BATCH:
            item, pulled = inbox.get_nowait(), True
            if not isinstance(item, _Audio):
                break
            chunks.append(item.pcm)
            pulled = False
        yield _Audio(b"".join(chunks))
        if not pulled:
            item = await inbox.get()


def _timings(utt: _Utterance) -> dict[str, float]:
    t = utt.t
    out = {"audio": float(utt.frames * FRAME_MS)}
    if "speech_end" in t and "stt_end" in t:
        # Decoding keeps up live; from a file or a stalled engine the audio waits in the queue.
        out["backlog"] = (t["stt_end"] - t["speech_end"]) * 1000
    if "stt_end" in t and "transcript" in t:
        out["stt"] = (t["transcript"] - t["stt_end"]) * 1000
    if "nlu" in t:
        out["nlu"] = t["nlu"]
    if "intent" in t and "speech_end" in t:
        out["speech_end_to_intent"] = (t["intent"] - t["speech_end"]) * 1000
    if "dispatched" in t and "intent" in t:
        out["dispatch"] = (t["dispatched"] - t["intent"]) * 1000
    return {k: round(v, 2) for k, v in out.items()}


def build_pipeline(
    settings: Settings,
    assistant: Assistant,
    source: AudioSource,
    *,
    engine: str | None = None,
    on_utterance: Callable[[UtteranceRecord], None] | None = None,
    transcriber: Transcriber | None = None,
) -> Pipeline:
    """The real pipeline from config: the assistant's parser gives the engine its grammar and names.

    ``engine`` overrides ``[stt] engine``; ``transcriber`` reuses one already loaded.
    """
    if transcriber is None:
        transcriber = build_transcriber(settings, assistant.parser, engine)
    return Pipeline(source, transcriber, assistant, settings.audio, on_utterance)


def build_transcriber(settings: Settings, parser: Parser, engine: str | None = None, workers: int = 1) -> Transcriber:
    """The speech engine of ``settings`` with the grammar of the parser's catalog and home;
    ``workers``: utterances its model decodes at once (``load_transcriber``)."""
    from edge_assistant.stt import OPEN_ENGINES, load_transcriber
    from edge_assistant.stt.grammar import build_command_grammar

    stt = settings.stt if engine is None else settings.stt.model_copy(update={"engine": engine})
    # An open-vocabulary engine is biased to the home's names in either mode, so it needs them too.
    biased = stt.mode == "grammar" or stt.engine in OPEN_ENGINES
    grammar = build_command_grammar(parser.catalog, parser.home) if biased else None
    models_dir = Path(settings.model.dir) if settings.model.dir else None
    wake = settings.audio.wake_phrase if settings.audio.mode == "wake" else ""
    return load_transcriber(
        stt, grammar, models_dir=models_dir, wake_phrase=wake, audio=settings.audio, workers=workers
    )
