"""The answers to "Are you sure?": one list, used by the dispatcher and by the speech grammar."""

from __future__ import annotations

__all__ = ["NO_PHRASES", "SPOKEN_ANSWERS", "YES_PHRASES"]

YES_PHRASES = frozenset(
    {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "do it", "go ahead", "correct"}
)
NO_PHRASES = frozenset(
    {"no", "nope", "cancel", "stop", "don't", "do not", "never mind", "nevermind", "abort", "forget it"}
)

# What the speech grammar offers for an answer: few and distinct, because in grammar mode every
# extra short phrase is one more place for noise to be forced onto (typed answers may use all).
SPOKEN_ANSWERS = ("yes", "yes please", "confirm", "no", "no thanks", "cancel")
