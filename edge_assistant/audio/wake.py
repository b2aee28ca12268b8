"""The wake phrase over transcripts: which utterances are commands when ``[audio] mode = "wake"``.

An utterance is a command when it starts with the wake phrase ("hey edge turn on the lights"),
or when it follows a lone wake phrase within ``wake_timeout_s``. Anything else is ignored, so
speech in the room that does not address the assistant never reaches the handlers. The speech
engine hears the wake phrase itself (it is part of the grammar), so this works on the text.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["WakeGate"]


class WakeGate:
    """Decides per transcript: the command text, or the reason there is none."""

    def __init__(self, phrase: str, timeout_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.words = tuple(phrase.lower().split())
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
        if heard_wake or tuple(w.lower() for w in words[: len(self.words)]) == self.words:
            rest = words if heard_wake else words[len(self.words) :]
            if not rest:
                self._armed_until = now + self.timeout_s
                return "", "wake phrase heard; waiting for the command"
            return " ".join(rest), None
        if now < self._armed_until:
            self._armed_until = 0.0
            return text, None
        return text, "no wake phrase"
