"""The answers to "Are you sure?": one list, used by the dispatcher and by the speech grammar."""

from __future__ import annotations

__all__ = ["NO_PHRASES", "YES_PHRASES"]

YES_PHRASES = frozenset(
    {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "do it", "go ahead", "correct"}
)
NO_PHRASES = frozenset(
    {"no", "nope", "cancel", "stop", "don't", "do not", "never mind", "nevermind", "abort", "forget it"}
)
