"""What the offline (whole-utterance) engines share: a buffering session and the heard text.

Whisper and Moonshine decode an utterance at once, so their session keeps the audio while the
person speaks (``accept`` is a copy) and decodes it on ``finish``, in the pipeline's worker
thread. ``Decoded`` is an engine's raw result; ``to_transcript`` turns it into a ``Transcript``
in the words the parser reads ("50%" -> "50 percent") with the guards applied.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_assistant.audio import FRAME_BYTES, AudioSettings
from edge_assistant.audio.endpoint import Endpointer
from edge_assistant.errors import ModelNotFoundError
from edge_assistant.events import Transcript
from edge_assistant.stt.guards import GuardSettings, rejection

__all__ = ["Decoded", "EarlyDecode", "OfflineSession", "resolve_model_dir", "spoken_form", "to_transcript"]

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
# Whisper sees 30 s at most in one window; no command is longer.
MAX_SECONDS = 30.0

_SYMBOLS = (
    (re.compile(r"\s*%"), " percent"),
    (re.compile(r"\s*°\s*[CF]\b|\s*°"), " degrees"),
    (re.compile(r"\b([ap])\.\s?m\.?(?=\s|$)", re.IGNORECASE), r"\1m"),
    (re.compile(r"(?<=\d),(?=\d{3}\b)"), ""),  # 1,000 -> 1000
    (re.compile(r"\s*&\s*"), " and "),
)
_PUNCTUATION = re.compile(r"[^\w\s'.:-]|(?<!\d)[.:](?!\d)|(?<=\d)[.](?!\d)|(?<!\w)-|-(?!\w)")


def spoken_form(text: str) -> str:
    """The engine's written text as the words a person said, digits kept.

    Whisper writes "Set it to 50%.", "at 6 p.m." and "22.5°C"; the parser reads "percent",
    "pm" and "degrees". Punctuation goes (a wake phrase then matches "hey jarvis," too), the
    decimal point and the clock colon stay.
    """
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def resolve_model_dir(name_or_dir: str, required: tuple[str, ...], models_dir: Path | None = None) -> Path:
    """A models-manifest name or a model directory, checked to hold the ``required`` files."""
    from edge_assistant.modelstore import default_models_dir, model_path

    path = model_path(name_or_dir, models_dir or default_models_dir())
    missing = [name for name in required if not (path / name).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{path} is not a model directory of this engine (missing {', '.join(missing)}); "
            f"fetch one with: edge-assistant models pull {name_or_dir}"
        )
    return path


@dataclass(frozen=True)
class Decoded:
    """One engine pass over an utterance: its text and the evidence the guards weigh."""

    text: str
    tokens: int = 0
    no_speech_prob: float | None = None
    avg_logprob: float | None = None
    truncated: bool = False  # the token cap ended it, not the end-of-text token
    alternatives: tuple[str, ...] = ()  # other hypotheses nearly as likely, likeliest first


def to_transcript(decoded: Decoded, engine: str, limits: GuardSettings, audio_s: float) -> Transcript:
    """A ``Transcript`` of ``decoded``; ``in_grammar=False`` with the reason when a guard refuses it."""
    text = spoken_form(decoded.text)
    reason = rejection(
        text,
        limits,
        audio_s=audio_s,
        tokens=decoded.tokens,
        no_speech_prob=decoded.no_speech_prob,
        avg_logprob=decoded.avg_logprob,
    )
    if decoded.truncated and reason is None:
        reason = f"no end of text within {decoded.tokens} tokens (a loop)"
    confidence = float(np.exp(decoded.avg_logprob)) if decoded.avg_logprob is not None else 1.0
    extra: dict[str, object] = {"raw_text": decoded.text, "tokens": decoded.tokens}
    if decoded.no_speech_prob is not None:
        extra["no_speech_prob"] = round(decoded.no_speech_prob, 4)
    if decoded.avg_logprob is not None:
        extra["avg_logprob"] = round(decoded.avg_logprob, 4)
    if reason is not None:
        extra["rejected"] = reason
    elif decoded.alternatives:
        alternatives = _distinct(text, decoded.alternatives)
        if alternatives:
            extra["alternatives"] = alternatives
    return Transcript(text, round(confidence, 4), (), engine, reason is None, extra)


def _distinct(text: str, alternatives: tuple[str, ...]) -> list[str]:
    """The alternatives in spoken form that say other words than ``text`` and each other.

    Hypotheses of a beam often differ only in case or punctuation ("Turn on the TV" and "turn on
    the TV."); those are one.
    """
    seen = {_words(text)}
    out = []
    for alternative in alternatives:
        spoken = spoken_form(alternative)
        key = _words(spoken)
        if key and key not in seen:
            seen.add(key)
            out.append(spoken)
    return out


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s.]", "", text.lower()).split())


class EarlyDecode:
    """When a whole-utterance session decodes before the utterance has ended.

    The endpointer ends an utterance after ``[audio] silence_ms`` of quiet (500 ms) and only then
    does an offline engine start its decode (0.2-0.4 s on this machine, more on a Pi). A session
    with ``EarlyDecode`` watches its own audio with the endpointer's thresholds, and once the
    speaker has been quiet for ``after_ms`` it decodes what it has in a thread of its own. When the
    utterance then ends with nothing loud after that point, that transcript is the answer, ready
    or nearly; a word after the pause makes it stale, and the whole utterance is decoded at the end
    as without it. ``[stt] early_decode_ms``; BENCHMARKS.md, "Decoding at the pause".
    """

    def __init__(self, after_ms: int, audio: AudioSettings | None = None) -> None:
        self.after_ms = after_ms
        # Only speech and quiet are wanted of the endpointer here: it must never end the watch.
        base = audio or AudioSettings()
        self.audio = base.model_copy(update={"silence_ms": 5000, "max_utterance_s": 120.0})


class _PauseWatch:
    """Speech and pauses in a stream of chunks, as the endpointer judges its 20 ms frames."""

    def __init__(self, early: EarlyDecode) -> None:
        self._after = early.after_ms
        self._endpointer = Endpointer(early.audio)
        self._rest = b""
        self._quiet = 0

    def push(self, chunk: bytes) -> list[str]:
        """What the chunk's frames did: "pause" (quiet reached ``after_ms``) or "speech" (loud again)."""
        data = self._rest + chunk
        whole = len(data) - len(data) % FRAME_BYTES
        self._rest = data[whole:]
        seen: list[str] = []
        for at in range(0, whole, FRAME_BYTES):
            self._endpointer.push(data[at : at + FRAME_BYTES])
            quiet = self._endpointer.quiet_ms
            if self._endpointer.in_speech and quiet == 0:
                seen.append("speech")
            elif self._quiet < self._after <= quiet:
                seen.append("pause")
            self._quiet = quiet
        return seen


class OfflineSession:
    """Keeps an utterance's audio and decodes it whole on ``finish`` (``decode`` takes float32 audio).

    With ``early``, it also decodes at each of the speaker's pauses (``EarlyDecode``): one decode
    at a time, each in a thread that waits for the one before; a decode still waiting when the
    speaker goes on is dropped.
    """

    def __init__(self, decode: Callable[[np.ndarray], Transcript], early: EarlyDecode | None = None) -> None:
        self._decode = decode
        self._chunks: list[bytes] = []
        self._bytes = 0
        self._watch = _PauseWatch(early) if early is not None and early.after_ms > 0 else None
        self._early: list[tuple[Future[Transcript], threading.Thread]] = []
        self._early_current = False  # nothing loud since the last early decode's audio ended

    def accept(self, chunk: bytes) -> str | None:
        """Keep ``chunk`` (16 kHz mono S16LE); offline engines have no partial text."""
        if self._bytes < MAX_SECONDS * SAMPLE_RATE * 2:
            self._chunks.append(chunk)
            self._bytes += len(chunk)
        if self._watch is not None:
            for seen in self._watch.push(chunk):
                if seen == "pause":
                    self._decode_early()
                elif self._early_current:  # said more: the last early decode is stale
                    self._early_current = False
                    self._early[-1][0].cancel()  # only one that has not started yet
        return None

    def audio(self) -> np.ndarray:
        """The utterance so far as float32 samples in [-1, 1]."""
        pcm = np.frombuffer(b"".join(self._chunks), dtype="<i2")
        return pcm.astype(np.float32) / 32768.0

    def finish(self) -> Transcript:
        """Decode the whole utterance; ``extra["stt_cpu_s"]`` is the CPU time the decoding took.

        The last early decode's transcript when nothing loud came after its audio
        (``extra["decoded_early"]``); otherwise the whole audio is decoded once the early decodes
        still running have ended, so that the engine decodes one utterance at a time.
        ``extra["early_decodes"]`` counts the early decodes that ran.
        """
        current = self._early_current
        if self._early and not current:
            self._early[-1][0].cancel()
        for _, thread in self._early:
            thread.join()
        ran = sum(1 for future, _ in self._early if not future.cancelled())
        counted = {"early_decodes": ran} if ran else {}
        if self._early and current:
            last = self._early[-1][0]
            if not last.cancelled() and last.exception() is None:
                transcript = last.result()
                return replace(transcript, extra={**transcript.extra, **counted, "decoded_early": True})
            log.debug("the early decode failed; decoding the whole utterance")  # that decode says why
        transcript = self._timed(self.audio())
        return replace(transcript, extra={**transcript.extra, **counted}) if counted else transcript

    def _decode_early(self) -> None:
        """Decode the audio so far in a thread of its own, after the early decode before it.

        Not a daemon thread: the engine's native code must end before the interpreter does.
        """
        audio, before = self.audio(), (self._early[-1][1] if self._early else None)
        future: Future[Transcript] = Future()

        def run() -> None:
            if before is not None:
                before.join()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(self._timed(audio))
                except BaseException as exc:  # handed to finish(), which decodes the whole utterance
                    future.set_exception(exc)

        thread = threading.Thread(target=run, name="early-decode")
        self._early.append((future, thread))
        self._early_current = True
        thread.start()

    def _timed(self, audio: np.ndarray) -> Transcript:
        start = time.process_time()
        transcript = self._decode(audio)
        return replace(transcript, extra={**transcript.extra, "stt_cpu_s": round(time.process_time() - start, 3)})
