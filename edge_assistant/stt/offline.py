"""What the offline (whole-utterance) engines share: a buffering session and the heard text.

Whisper and Moonshine decode an utterance at once, so their session keeps the audio while the
person speaks (``accept`` is a copy) and decodes it on ``finish``, in the pipeline's worker
thread. ``Decoded`` is an engine's raw result; ``to_transcript`` turns it into a ``Transcript``
in the words the parser reads ("50%" -> "50 percent") with the guards applied.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_assistant.errors import ModelNotFoundError
from edge_assistant.events import Transcript
from edge_assistant.stt.guards import GuardSettings, rejection

__all__ = ["Decoded", "OfflineSession", "resolve_model_dir", "spoken_form", "to_transcript"]

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


class OfflineSession:
    """Keeps an utterance's audio and decodes it whole on ``finish`` (``decode`` takes float32 audio)."""

    def __init__(self, decode: Callable[[np.ndarray], Transcript]) -> None:
        self._decode = decode
        self._chunks: list[bytes] = []
        self._bytes = 0

    def accept(self, chunk: bytes) -> str | None:
        """Keep ``chunk`` (16 kHz mono S16LE); offline engines have no partial text."""
        if self._bytes < MAX_SECONDS * SAMPLE_RATE * 2:
            self._chunks.append(chunk)
            self._bytes += len(chunk)
        return None

    def audio(self) -> np.ndarray:
        """The utterance so far as float32 samples in [-1, 1]."""
        pcm = np.frombuffer(b"".join(self._chunks), dtype="<i2")
        return pcm.astype(np.float32) / 32768.0

    def finish(self) -> Transcript:
        """Decode the whole utterance; ``extra["stt_cpu_s"]`` is the CPU time the decoding took."""
        start = time.process_time()
        transcript = self._decode(self.audio())
        return replace(transcript, extra={**transcript.extra, "stt_cpu_s": round(time.process_time() - start, 3)})
