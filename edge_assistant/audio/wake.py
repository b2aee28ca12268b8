"""The wake phrase over transcripts: which utterances are commands when ``[audio] mode = "wake"``.

An utterance is a command when it starts with the wake phrase ("hey edge turn on the lights"),
or when it follows a lone wake phrase within ``wake_timeout_s``. Anything else is ignored, so
speech in the room that does not address the assistant never reaches the handlers. The speech
engine hears the wake phrase itself (it is part of the grammar), so this works on the text.

An open-vocabulary engine spells a made-up word as it hears it ("okay raspy" for "okay rhasspy",
"hey my croft" for "hey mycroft"), so the opening words match when their letters are a slip of
the phrase's: at most one edit per five letters (a sound-alike letter costs half; at least one
edit is allowed), with the same first letter, over one word fewer or more than the phrase has.

A phrase said alone in noise may be beyond the engine's beam altogether ("There's no board" for
"Snowboy" at 12 dB). Where the engine can weigh texts on the utterance's audio, a short
utterance that does not open with the phrase wakes when the audio says the phrase alone nearly
as well as what was heard (``said_on_audio``): a made-up word is a name the ear missed, and the
same gap as for names holds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from edge_assistant.nlu.names import slip_cost

__all__ = ["WAKE_GAP", "WakeGate"]

# The phrase said alone stands for a short utterance heard otherwise when the audio says it at
# most this many nats less likely than what was heard: ``NAME_GAP``, a name the ear missed.
WAKE_GAP = 1.0
_MORE_WORDS = 2  # a short utterance: at most the phrase's words and this many more


class WakeGate:
    """Decides per transcript: the command text, or the reason there is none."""

    def __init__(self, phrase: str, timeout_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.words = tuple(w for w in (_letters(w) for w in phrase.split()) if w)
        self.phrase = " ".join(phrase.split())
        self.timeout_s = timeout_s
        self._clock = clock
        self._armed_until = 0.0

    def command(self, text: str, heard_wake: bool = False) -> tuple[str, str | None]:
        """(the command, None), or (the text, the reason it is no command): ("", "wake phrase heard; ...")
        after a lone phrase, (text, "no wake phrase"). ``heard_wake``: the engine already cut the phrase off."""
        words = text.split()
        if not words and not heard_wake:
            return "", "nothing heard"
        if not self.words:
            return text, None
        now = self._clock()
        said = 0 if heard_wake else self._opening(words)
        if heard_wake or said:
            rest = words[said:]
            if not rest:
                self._armed_until = now + self.timeout_s
                return "", "wake phrase heard; waiting for the command"
            return " ".join(rest), None
        if now < self._armed_until:
            self._armed_until = 0.0
            return text, None
        return text, "no wake phrase"

    def said_on_audio(self, text: str, score: Callable[[Sequence[str]], list[float]]) -> bool:
        """Whether ``text``, a short utterance that does not open with the phrase, was the phrase
        said alone: ``score`` (the engine's weighing of texts on the utterance's audio) gives the
        phrase, as written or with a capital, at most ``WAKE_GAP`` nats less than ``text``."""
        if not self.words or not text.split() or len(text.split()) > len(self.words) + _MORE_WORDS:
            return False
        if self._opening(text.split()):
            return False
        heard, *phrase = score([text, self.phrase, self.phrase[:1].upper() + self.phrase[1:]])
        return heard - max(phrase) <= WAKE_GAP

    def strip(self, text: str) -> str | None:
        """The words after the wake phrase that opens ``text``; None when it does not open with it.

        No state changes: for a speech engine's other hypotheses of an utterance already let in.
        """
        words = text.split()
        said = self._opening(words) if self.words else 0
        return " ".join(words[said:]) if said else None

    def _opening(self, words: list[str]) -> int:
        """How many of the opening ``words`` say the wake phrase (0: they do not)."""
        if tuple(_letters(w) for w in words[: len(self.words)]) == self.words:
            return len(self.words)
        phrase = "".join(self.words)
        allowed = max(1.0, len(phrase) / 5)
        best, count = allowed + 1, 0
        for n in range(max(1, len(self.words) - 1), len(self.words) + 2):
            said = "".join(_letters(w) for w in words[:n])
            if n > len(words) or not said or said[0] != phrase[0]:
                continue
            cost = slip_cost(said, phrase)
            if cost < best:
                best, count = cost, n
        return count if best <= allowed else 0


def _letters(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())
