"""Hybrid decoding: the catalog grammar first, the open-vocabulary engine for what it does not hold.

The grammar pass (pocketsphinx on the catalog's automaton) decodes while the person speaks, so
its answer is ready at the end of speech; the open pass (Whisper or Moonshine) only keeps the
audio. On ``finish``, a transcript the grammar holds (``in_grammar``, confidence at least
``min_confidence``) answers at once; anything else (speech outside the templates, a command the
grammar missed, noise) is decoded by the open engine, whose guards refuse noise and guesses.
Which pass answers when both would was decided on real and synthetic speech (BENCHMARKS.md,
"Open-vocabulary speech").

``Transcript.extra["pass"]`` says which pass answered, ``extra["stt_cpu_s"]`` the CPU seconds
both passes spent on the utterance, and ``extra["grammar_text"]`` what the grammar heard when
the open pass answered.
"""

from __future__ import annotations

import time
from dataclasses import replace

from edge_assistant.events import Transcript
from edge_assistant.stt import Session, Transcriber

__all__ = ["HybridSession", "HybridTranscriber"]


class HybridTranscriber:
    """A grammar engine and an open-vocabulary engine behind one ``Transcriber``."""

    name = "hybrid"

    def __init__(self, grammar_pass: Transcriber, open_pass: Transcriber, *, min_confidence: float = 0.0) -> None:
        self.grammar_pass = grammar_pass
        self.open_pass = open_pass
        self.min_confidence = min_confidence
        self.name = f"{grammar_pass.name}+{open_pass.name}"

    def start(self) -> HybridSession:
        """Begin an utterance on both passes."""
        return HybridSession(self, self.grammar_pass.start(), self.open_pass.start())

    def holds(self, transcript: Transcript) -> bool:
        """Whether the grammar pass's transcript answers alone."""
        return transcript.in_grammar and bool(transcript.text) and transcript.confidence >= self.min_confidence


class HybridSession:
    """One utterance: streamed into the grammar pass, kept for the open pass."""

    def __init__(self, owner: HybridTranscriber, grammar: Session, open_: Session) -> None:
        self._owner = owner
        self._grammar = grammar
        self._open = open_
        self._cpu = 0.0

    def accept(self, chunk: bytes) -> str | None:
        """Feed both passes; the grammar pass's partial text when it changed."""
        start = time.process_time()
        try:
            self._open.accept(chunk)
            return self._grammar.accept(chunk)
        finally:
            self._cpu += time.process_time() - start

    def finish(self) -> Transcript:
        """The grammar pass's transcript when it holds the utterance, else the open pass's."""
        start = time.process_time()
        heard = self._grammar.finish()
        if self._owner.holds(heard):
            cpu = self._cpu + time.process_time() - start
            return replace(heard, extra={**heard.extra, "pass": "grammar", "stt_cpu_s": round(cpu, 3)})
        result = self._open.finish()
        cpu = self._cpu + time.process_time() - start
        extra = {**result.extra, "pass": "open", "grammar_text": heard.text, "stt_cpu_s": round(cpu, 3)}
        return replace(result, extra=extra)
