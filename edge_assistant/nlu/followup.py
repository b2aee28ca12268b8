"""Follow-ups: an utterance that goes on from the command just carried out.

People do not repeat the whole command when they go on talking to the same device. Within ``[nlu]
follow_up_s`` of a command (``Dialogue.last``):

- **more of the same**: "and the study lamp", "the porch light too", "also the kitchen", "what
  about the study?" take the last command's action and values to the devices or places said
  (``continued``): after "turn off the kitchen light", "the study lamp" turns it off, not on;
- **it and them**: "turn it off", "make them brighter", "cancel it" are the last command's devices
  (or its timer), said by a pronoun (``with_referent``), when the utterance is understood with
  them and acts on nothing else;
- **again**: "a bit more", "again", "even less" repeat the last change of a level (``again``).

Outside that window each of these is parsed as it stands, and "and the study lamp" alone, which
says no action, is asked about rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from edge_assistant.home import Entity
from edge_assistant.nlu.normalize import normalize_text

__all__ = ["ACTIONS", "ASKING", "Recent", "again", "continued", "referent_text", "with_referent"]

_WORD = re.compile(r"[a-z0-9']+")
# Words that say "the same again, for this": before or after what is named.
_LEADS = (
    "and also", "and then", "and what about", "and how about", "what about", "how about", "same for", "same with",
    "same goes for", "the same for", "do the same for", "do the same with", "and", "also", "then", "plus",
)  # fmt: skip
# Not "please" alone: "rover, please" is a bare name, which the model reads as it stands.
_TAILS = ("as well please", "too please", "also please", "as well", "too", "also")
# Kind words that are verbs too: "lock the front door" says its action, and is no follow-up.
ACTIONS = frozenset(("lock", "unlock", "open", "close", "shut", "switch", "light", "start", "stop", "pause", "dim"))
_PRONOUNS = frozenset(("it", "them", "that", "those"))
# A pronoun after one of these is a question's subject, no device: "what time is it", "is it cold".
ASKING = frozenset(("is", "was", "does", "did", "will", "what's", "what", "where's"))
# "A bit more": the last change of a level again; "less": the other way.
_MORE = re.compile(r"(?:(?:a )?(?:bit|little|tad|touch) |(?:a )?(?:bit |little )?|even |some |much )?(more|less)")
_AGAIN = re.compile(r"(?:do (?:it|that) )?(?:again|once more|one more time)")
_POLITE = re.compile(r"^(?:(?:please|ok|okay|now) )*|(?: (?:please|thanks|thank you))*$")


@dataclass(frozen=True)
class Recent:
    """The last command understood in a conversation, and until when a follow-up may go on from it."""

    intent: str
    slots: dict[str, Any]
    targets: list[str]
    confidence: float
    source: Literal["template", "model"]
    deadline: float


def continued(text: str) -> str | None:
    """What ``text`` names when it only goes on from the last command ("and the study lamp" -> "the
    study lamp", "the porch light too" -> "the porch light"), or None when it says no lead or tail
    word (a bare name is checked by the caller, which knows the home's names)."""
    low = " ".join(_WORD.findall(text.lower()))
    rest = low
    for lead in _LEADS:
        if rest.startswith(lead + " "):
            rest = rest[len(lead) + 1 :]
            break
    for tail in _TAILS:
        if rest.endswith(" " + tail):
            rest = rest[: -len(tail) - 1]
            break
    return rest if rest and rest != low else None


def referent_text(recent: Recent, entities: Mapping[str, Entity]) -> str | None:
    """The words that "it" or "them" stand for after ``recent``: its first device's name ("the Study
    Lamp"; the caller takes the others along), or "the timer" after a timer command; None when it
    acted on nothing."""
    if recent.targets:
        first = entities.get(recent.targets[0])
        return f"the {first.name}" if first is not None else None
    return "the timer" if "Timer" in recent.intent else None


def with_referent(text: str, referent: str) -> str | None:
    """``text`` with its one pronoun ("it", "them", "that") said as ``referent``; None without one
    or with several. Whether the result is a command about those devices is the caller's test."""
    words = text.split()
    at = [i for i, w in enumerate(words) if w.lower().strip(",.?!") in _PRONOUNS]
    if len(at) != 1 or (at[0] > 0 and words[at[0] - 1].lower() in ASKING):
        return None  # "what time is it", "is it cold outside": no device
    return " ".join([*words[: at[0]], referent, *words[at[0] + 1 :]])


def again(text: str, recent: Recent) -> dict[str, Any] | None:
    """The slots of the last command said again ("again", "a bit more"; "less": a level's step the
    other way), or None when ``text`` is not that or the last command changed no level."""
    norm = _POLITE.sub("", normalize_text(text)).strip()
    steps = [k for k, v in recent.slots.items() if k.endswith("_step") and isinstance(v, (int, float))]
    if _AGAIN.fullmatch(norm):
        return dict(recent.slots)
    match = _MORE.fullmatch(norm)
    if match is None or len(steps) != 1:
        return None
    step = recent.slots[steps[0]]
    return {**recent.slots, steps[0]: -step if match.group(1) == "less" else step}
