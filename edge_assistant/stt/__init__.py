"""Speech to text: the ``Transcriber`` protocol, its settings, and the factory for the engines.

Each engine lives in its own module (``stt.vosk``, ``stt.pocketsphinx``, ``stt.whisper``,
``stt.moonshine``), the only one that imports its library. A transcriber is loaded once and owned
by one pipeline task; each utterance gets a ``Session`` that is fed 16 kHz mono S16LE chunks and
finished into a ``Transcript``.

The open-vocabulary engines (Whisper, Moonshine) decode a whole utterance on ``finish``. In
grammar mode they run behind the catalog grammar (``stt.hybrid``): pocketsphinx decodes while
the person speaks and answers when the grammar holds the utterance; the open engine takes the
rest. Both are biased to the home's names, from the grammar the pipeline builds per home.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from edge_assistant.events import Transcript

if TYPE_CHECKING:
    from edge_assistant.audio import AudioSettings
    from edge_assistant.stt.grammar import CommandGrammar

__all__ = ["ENGINES", "OPEN_ENGINES", "Session", "SttSettings", "Transcriber", "load_transcriber"]

SAMPLE_RATE = 16000
ENGINES = ("pocketsphinx", "vosk", "whisper", "moonshine")
OPEN_ENGINES = ("whisper", "moonshine")


class SttSettings(BaseModel):
    """``[stt]``: which engine, grammar or open vocabulary, and the guards against forced matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Whisper tiny.en: the measured best English engine (BENCHMARKS.md, "Open-vocabulary speech").
    engine: Literal["pocketsphinx", "vosk", "whisper", "moonshine"] = "whisper"
    mode: Literal["grammar", "open"] = "grammar"
    vosk_model: str = Field(default="vosk-small-en-us", description="a models-manifest name or a directory")
    whisper_model: str = Field(default="whisper-tiny-en", description="a models-manifest name or a directory")
    moonshine_model: str = Field(default="moonshine-base-en", description="a models-manifest name or a directory")
    min_word_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    filler_prob: float = Field(default=0.2, gt=0.0, le=1.0, description="pocketsphinx phone-loop strength")
    # Open-vocabulary engines (BENCHMARKS.md, "Open-vocabulary speech", for the measured values).
    threads: int = Field(default=0, ge=0, le=16, description="CPU threads of whisper/moonshine; 0: cores, at most 4")
    beam_size: int = Field(default=1, ge=1, le=8, description="Whisper beam; at least `alternatives` wide")
    # Whisper's best few hypotheses: the likeliest is the transcript; those within the margin (mean
    # log-probability per token) are alternatives that the home's templates may hold when the
    # likeliest is a near miss ("Bause the timer" / "Pause the timer"). 1: one greedy pass.
    alternatives: int = Field(default=5, ge=1, le=8, description="Whisper hypotheses kept; 1: greedy, none")
    alternative_margin: float = Field(default=0.3, ge=0.0, le=5.0)
    window_s: float = Field(default=15.0, ge=5.0, le=30.0, description="seconds of audio Whisper's encoder sees")
    max_no_speech_prob: float | None = Field(default=0.6, ge=0.0, le=1.0)
    min_avg_logprob: float | None = Field(default=-1.0, le=0.0)
    max_compression_ratio: float | None = Field(default=2.4, gt=0.0)
    # A heard sentence that no template holds acts only when the intent model is this sure: a
    # misheard sentence is often nonsense the model still maps to an intent (BENCHMARKS.md,
    # "Real speech"). Text typed or sent to `parse` keeps `[nlu] min_confidence`.
    min_model_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    # A heard sentence that nothing acts on is weighed on its audio against this many of the
    # home's command sentences nearest to it in letters ("Cancel all the tires" -> "cancel all
    # timers"; ``Assistant.heard_command``, BENCHMARKS.md). 0: off. Engines with a scorer only.
    near_commands: int = Field(default=8, ge=0, le=16)
    # An open engine in grammar mode (stt.hybrid): "off" runs it alone, biased to the grammar's
    # names (the measured best, BENCHMARKS.md); "agree" also runs pocketsphinx's grammar pass and
    # acts on its sentence only when the open pass heard the same words (at least
    # ``min_agreement``); "grammar_first" acts on a grammar sentence of at least
    # ``grammar_min_confidence`` at once, without the open pass.
    hybrid: Literal["off", "agree", "grammar_first"] = "off"
    min_agreement: float = Field(default=1.0, ge=0.0, le=1.0)
    grammar_min_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    # Whisper and Moonshine decode what was said once the speaker has been quiet this long, before
    # the endpointer's ``[audio] silence_ms`` ends the utterance; that transcript is used when
    # nothing more was said (``stt.offline.EarlyDecode``; BENCHMARKS.md). 0: decode at the end only.
    early_decode_ms: int = Field(default=200, ge=0, le=5000)


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
    audio: AudioSettings | None = None,
    workers: int = 1,
) -> Transcriber:
    """The engine named in ``settings``; ``grammar`` is used in grammar mode (None: open vocabulary).

    ``audio``: the endpointer's settings, with which an open engine judges a pause for its early
    decode (``[stt] early_decode_ms``; default thresholds when None). ``workers``: how many
    utterances Whisper's one model decodes at once (a hub's engines are its replicas).

    An open-vocabulary engine is biased to ``grammar``'s names in either mode, and in grammar
    mode runs behind the grammar pass (``HybridTranscriber``).
    """
    if settings.engine in OPEN_ENGINES:
        return _load_open(settings, grammar, models_dir, wake_phrase, audio, workers)
    use = grammar if settings.mode == "grammar" else None
    if settings.engine == "vosk":
        return _load_vosk(settings, use, models_dir, wake_phrase)
    from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber

    return PocketsphinxTranscriber(
        use,
        filler_prob=settings.filler_prob,
        wake_phrase=wake_phrase,
    )


def _load_vosk(
    settings: SttSettings, grammar: CommandGrammar | None, models_dir: Path | None, wake_phrase: str
) -> Transcriber:
    from edge_assistant.stt.vosk import VoskTranscriber, resolve_vosk_model

    model_dir = resolve_vosk_model(settings.vosk_model, models_dir)
    if grammar is None:
        return VoskTranscriber(model_dir, None, settings.min_word_confidence)
    from edge_assistant.stt.fsa import compile_grammar

    automaton = compile_grammar(grammar)
    wake = wake_phrase.lower().split()

    def accepts(words: list[str]) -> bool:
        return automaton.accepts(words[len(wake) :] if wake and words[: len(wake)] == wake else words)

    phrases = sorted(grammar.vocabulary() | set(wake))
    return VoskTranscriber(model_dir, phrases, settings.min_word_confidence, accepts)


def _load_open(
    settings: SttSettings,
    grammar: CommandGrammar | None,
    models_dir: Path | None,
    wake_phrase: str,
    audio: AudioSettings | None,
    workers: int = 1,
) -> Transcriber:
    from edge_assistant.stt.bias import initial_prompt
    from edge_assistant.stt.guards import GuardSettings
    from edge_assistant.stt.offline import EarlyDecode, resolve_model_dir

    limits = GuardSettings(settings.max_no_speech_prob, settings.min_avg_logprob, settings.max_compression_ratio)
    names = grammar.names if grammar is not None else ()
    early = EarlyDecode(settings.early_decode_ms, audio) if settings.early_decode_ms else None
    examples = grammar.examples if grammar is not None else ()
    engine: Transcriber
    if settings.engine == "whisper":
        from edge_assistant.stt.whisper import MODEL_FILES, WhisperTranscriber

        model_dir = resolve_model_dir(settings.whisper_model, MODEL_FILES, models_dir)
        prompt = initial_prompt((*wake_phrase.split(), *names) if wake_phrase else names, examples)
        engine = WhisperTranscriber(
            model_dir,
            prompt=prompt,
            names=names,
            beam_size=settings.beam_size,
            alternatives=settings.alternatives,
            alternative_margin=settings.alternative_margin,
            threads=settings.threads,
            limits=limits,
            window_s=settings.window_s,
            early=early,
            workers=workers,
        )
    else:
        from edge_assistant.stt.moonshine import MODEL_FILES as MOONSHINE_FILES
        from edge_assistant.stt.moonshine import MoonshineTranscriber

        model_dir = resolve_model_dir(settings.moonshine_model, MOONSHINE_FILES, models_dir)
        engine = MoonshineTranscriber(model_dir, names=names, threads=settings.threads, limits=limits, early=early)
    if settings.mode == "open" or grammar is None or settings.hybrid == "off":
        return engine
    from edge_assistant.stt.hybrid import HybridTranscriber
    from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber

    grammar_pass = PocketsphinxTranscriber(grammar, filler_prob=settings.filler_prob, wake_phrase=wake_phrase)
    return HybridTranscriber(
        grammar_pass,
        engine,
        policy=settings.hybrid,
        min_confidence=settings.grammar_min_confidence,
        min_agreement=settings.min_agreement,
    )
