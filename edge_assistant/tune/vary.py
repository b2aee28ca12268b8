"""Variations people and speech recognisers produce: politeness, fillers, dropped words, slips."""

from __future__ import annotations

import random

__all__ = ["vary"]

_BEFORE = ("please", "can you", "could you", "hey", "um", "uh", "okay", "i want you to", "would you",
           "could you please", "can you please", "hey assistant", "yo", "so", "i'd like you to", "quickly",
           "go ahead and", "just", "alright", "hmm")  # fmt: skip
_AFTER = ("please", "thanks", "thank you", "now", "right now", "for me", "asap", "if you can", "ok")
# Recognition slips and casual spellings: (heard, written).
_SLIPS = (
    (" off", " of"), (" on ", " in "), ("bedroom", "bed room"), ("living room", "leaving room"), ("lights", "light"),
    ("turn ", "turned "), ("the ", "da "), ("switch", "which"), ("kitchen", "kitten"), ("two", "to"),
    ("four", "for"), ("lamp", "lamb"), ("dim ", "dem "), ("vacuum", "vaccum"), ("bathroom", "bath room"),
    ("please", "pleas"), ("brighter", "brighten"), ("coffee", "copy"), ("lights", "light's"), (" to ", " too "),
)  # fmt: skip
_DROP = ("the ", "a ", "my ", "please ")


def _slip(text: str, rng: random.Random) -> str:
    candidates = [(a, b) for a, b in _SLIPS if a in text]
    if not candidates:
        return text
    heard, written = rng.choice(candidates)
    return text.replace(heard, written, 1)


def vary(text: str, rng: random.Random) -> str:
    """A randomly varied version of ``text`` (often unchanged)."""
    out = text
    if rng.random() < 0.25:
        out = f"{rng.choice(_BEFORE)} {out}"
    if rng.random() < 0.15:
        out = f"{out} {rng.choice(_AFTER)}"
    if rng.random() < 0.15:
        out = _slip(out, rng)
    if rng.random() < 0.1:
        word = rng.choice(_DROP)
        out = out.replace(word, "", 1)
    if rng.random() < 0.05:
        words = out.split()
        if len(words) > 3:
            del words[rng.randrange(len(words))]
            out = " ".join(words)
    return out
