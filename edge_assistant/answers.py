"""The answers to "Are you sure?": one list, used by the dispatcher and by the speech grammar."""

from __future__ import annotations

import re

__all__ = ["NO_PHRASES", "SPOKEN_ANSWERS", "YES_PHRASES", "bare_answer", "words_of"]

YES_PHRASES = frozenset(
    {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "do it", "go ahead", "correct"}
)
NO_PHRASES = frozenset(
    {"no", "nope", "cancel", "stop", "don't", "do not", "never mind", "nevermind", "abort", "forget it"}
)

# What the speech grammar offers for an answer: few and distinct, because in grammar mode every
# extra short phrase is one more place for noise to be forced onto (typed answers may use all).
SPOKEN_ANSWERS = ("yes", "yes please", "confirm", "no", "no thanks", "cancel")

# A whole answer and no command of its own: "yes", "no thanks", "ok".
_BARE_ANSWERS = YES_PHRASES | NO_PHRASES | {f"{w} please" for w in YES_PHRASES} | {f"{w} thanks" for w in NO_PHRASES}


def words_of(text: str) -> str:
    """``text`` as its lower-case words, one space apart, punctuation dropped."""
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def bare_answer(text: str) -> bool:
    """Whether ``text`` is only a yes or a no ("yes please", "no thanks", "cancel")."""
    return words_of(text) in _BARE_ANSWERS
