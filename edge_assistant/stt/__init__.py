"""Speech to text: the ``Transcriber`` protocol, its settings, and the factory for the engines.

Each engine lives in its own module (``stt.vosk``, ``stt.pocketsphinx``), the only one that imports
its library. A transcriber is loaded once and owned by one pipeline task; each utterance gets a
``Session`` that is fed 16 kHz mono S16LE chunks and finished into a ``Transcript``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from edge_assistant.events import Transcript

if TYPE_CHECKING:
    from edge_assistant.stt.grammar import CommandGrammar

__all__ = ["Session", "SttSettings", "Transcriber", "load_transcriber"]

SAMPLE_RATE = 16000


class SttSettings(BaseModel):
    """``[stt]``: which engine, grammar or open vocabulary, and the guards against forced matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    engine: Literal["pocketsphinx", "vosk"] = "pocketsphinx"
    mode: Literal["grammar", "open"] = "grammar"
    vosk_model: str = Field(default="vosk-small-en-us", description="a models-manifest name or a directory")
    min_word_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    filler_prob: float = Field(default=0.2, gt=0.0, le=1.0, description="pocketsphinx phone-loop strength")


class Session(Protocol):
    """One utterance being decoded."""

    def accept(self, chunk: bytes) -> str | None:
        """Feed 16 kHz mono S16LE audio; return the partial text when it changed, else None."""
        ...

    def finish(self) -> Transcript:
        """End the utterance and return the final transcript."""
        ...


class Transcriber(Protocol):
    """A loaded speech engine; ``start`` opens a session per utterance."""

    name: str

    def start(self) -> Session:
        """Begin decoding a new utterance."""
        ...


def load_transcriber(
    settings: SttSettings,
    grammar: CommandGrammar | None,
    *,
    models_dir: Path | None = None,
    wake_phrase: str = "",
) -> Transcriber:
    """The engine named in ``settings``; ``grammar`` is used in grammar mode (None: open vocabulary)."""
    use = grammar if settings.mode == "grammar" else None
    if settings.engine == "vosk":
        from edge_assistant.stt.vosk import VoskTranscriber, resolve_vosk_model

        model_dir = resolve_vosk_model(settings.vosk_model, models_dir)
        if use is None:
            return VoskTranscriber(model_dir, None, settings.min_word_confidence)
        from edge_assistant.stt.fsa import compile_grammar

        automaton = compile_grammar(use)
        wake = wake_phrase.lower().split()

        def accepts(words: list[str]) -> bool:
            return automaton.accepts(words[len(wake) :] if wake and words[: len(wake)] == wake else words)

        phrases = sorted(use.vocabulary() | set(wake))
        return VoskTranscriber(model_dir, phrases, settings.min_word_confidence, accepts)
    from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber

    return PocketsphinxTranscriber(
        use,
        filler_prob=settings.filler_prob,
        wake_phrase=wake_phrase,
    )
