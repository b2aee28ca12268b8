"""Hybrid decoding: the catalog grammar first, the open-vocabulary engine for what it does not hold.

The grammar pass (pocketsphinx on the catalog's automaton) decodes while the person speaks; the
open pass (Whisper or Moonshine) keeps the audio and decodes it on ``finish``. Two policies:

- ``agree``: the open pass always decodes. When the grammar holds the utterance
  (``in_grammar``, confidence at least ``min_confidence``) and the two transcripts agree word by
  word (``agreement`` at least ``min_agreement``), the grammar's sentence answers (pass
  ``both``); otherwise the open pass's, with its guards (pass ``open``). A grammar sentence the
  open engine did not hear is never acted on: pocketsphinx forces natural phrasing onto a
  template with high confidence ("porch light off, would you" -> "porch light on bedroom",
  0.78). Below full agreement one word decides: "unlock the front door" agreed at 0.8 with the
  grammar's "lock the front door".
- ``grammar_first``: a sentence the grammar holds with confidence at least ``min_confidence``
  answers at once, without the open pass (the fastest; wrong on forced matches below 0.9).

Measured on real and synthetic speech (BENCHMARKS.md, "Open-vocabulary speech"), neither policy
acted more often correctly than Whisper alone, so ``[stt] hybrid = "off"`` is the default and
these are for devices where the fast path matters. ``Transcript.extra["pass"]`` says which pass answered,
``extra["stt_cpu_s"]`` the CPU seconds both passes spent on the utterance.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Literal

from edge_assistant.events import Transcript
from edge_assistant.nlu.normalize import normalize_text, numbers_in
from edge_assistant.stt import Session, Transcriber

__all__ = ["HybridSession", "HybridTranscriber", "agreement"]

Policy = Literal["grammar_first", "agree"]  # [stt] hybrid = "off" does not build a hybrid


def agreement(a: str, b: str) -> float:
    """How far two transcripts agree, word by word: 1 - word edit distance / the longer length.

    Both are normalised as the parser reads them ("seventy percent" = "70%"), so the grammar's
    spelled-out numbers and Whisper's digits agree. Different numbers are no agreement at all,
    however alike the rest: "the blinds to eight" is not "the blinds a bit".
    """
    x = [re.sub(r"[^0-9a-z.']", "", w).strip(".") for w in normalize_text(a).split()]
    y = [re.sub(r"[^0-9a-z.']", "", w).strip(".") for w in normalize_text(b).split()]
    x, y = [w for w in x if w], [w for w in y if w]
    if not x or not y or numbers_in(" ".join(x)) != numbers_in(" ".join(y)):
        return 0.0
    row = list(range(len(y) + 1))
    for i, word in enumerate(x, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(y, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return 1.0 - row[-1] / max(len(x), len(y))


class HybridTranscriber:
    """A grammar engine and an open-vocabulary engine behind one ``Transcriber``."""

    name = "hybrid"

    def __init__(
        self,
        grammar_pass: Transcriber,
        open_pass: Transcriber,
        *,
        policy: Policy = "agree",
        min_confidence: float = 0.0,
        min_agreement: float = 1.0,
    ) -> None:
        self.grammar_pass = grammar_pass
        self.open_pass = open_pass
        self.policy = policy
        self.min_confidence = min_confidence
        self.min_agreement = min_agreement
        self.name = f"{grammar_pass.name}+{open_pass.name}"

    def start(self) -> HybridSession:
        """Begin an utterance on both passes."""
        return HybridSession(self, self.grammar_pass.start(), self.open_pass.start())

    def holds(self, transcript: Transcript) -> bool:
        """Whether the grammar pass's transcript is a confident sentence of the grammar."""
        return transcript.in_grammar and bool(transcript.text) and transcript.confidence >= self.min_confidence

    def pick(self, heard: Transcript, result: Transcript) -> tuple[str, float]:
        """With both passes decoded: "both" (the grammar's sentence answers) or "open", and their agreement."""
        agree = round(agreement(heard.text, result.text), 3) if self.holds(heard) else 0.0
        # Two engines heard the same command: the grammar's words are the catalog's spelling.
        return ("both" if agree >= self.min_agreement else "open"), agree


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
        """The transcript the owner's policy picks (module docstring); ``extra["pass"]`` says which."""
        start = time.process_time()
        owner = self._owner
        heard = self._grammar.finish()
        if owner.holds(heard) and owner.policy == "grammar_first":
            return self._answer(heard, "grammar", start)
        result = self._open.finish()
        which, agree = owner.pick(heard, result)
        if which == "both":
            return self._answer(heard, which, start, open_text=result.text, agreement=agree)
        return self._answer(result, which, start, grammar_text=heard.text, agreement=agree)

    def _answer(self, transcript: Transcript, which: str, start: float, **extra: object) -> Transcript:
        cpu = round(self._cpu + time.process_time() - start, 3)
        return replace(transcript, extra={**transcript.extra, **extra, "pass": which, "stt_cpu_s": cpu})
