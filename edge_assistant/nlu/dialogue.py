"""The state of one conversation, and the rules that read it.

A ``Parser`` is stateless: what one conversation remembers between its utterances lives in a
``Dialogue``, so that one parser (and one model) serves any number of conversations (a Wyoming
hub's satellites, the daemon's microphone, a test):

- ``question``: a command that lacks only its value ("adjust the lights" → "What brightness or
  colour?"), or only the device its value is for ("set it to pink" in a home of several lights →
  "which light do you mean?"), waiting for a short answer ("red", "the bed light") until its
  deadline;
- ``confirmation``: a command the safety policy holds until a yes (owned by the dispatcher);
- ``colours``: the colour this conversation last set on each light, so "a different colour" steps on;
- ``last``: the last command understood, which a follow-up goes on from (``nlu.followup``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from edge_assistant.events import IntentResult
from edge_assistant.home import Entity, Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.extract import extract_slots
from edge_assistant.nlu.followup import Recent
from edge_assistant.nlu.multi import joined
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.resolve import Unresolved, finalize_slots, resolve_targets
from edge_assistant.nlu.words import domain_table, number_table

if TYPE_CHECKING:
    from edge_assistant.handlers.base import Command

__all__ = [
    "ANSWER_FILLERS",
    "ANY_DEVICE",
    "Confirmation",
    "Dialogue",
    "Question",
    "answer_question",
    "next_colour",
    "says_more",
    "wants_another_colour",
]

# "a different colour", "surprise me", "rotate the colours", "change the colour of the lights":
# any colour but the one the lights have. Not "change the lights to my favourite colour" (a colour
# we do not know: asked) nor "how do i change the colour" (a question about the product).
_ANOTHER_COLOUR = re.compile(
    r"\b(?:different|another|other|new|random|next)\s+(?:\w+\s+)?(?:colou?rs?|shade|hue)\b"
    r"|\bsurprise me\b|\bsomething (?:random|different|else)\b"
    r"|\b(?:shuffle|rotate|cycle)\b.*\bcolou?rs?\b|\bcolou?rs?\b.*\b(?:randomly|at random)\b"
    r"|^(?!.*\bhow\b).*(?:\b(?:change|alter|swap|vary)\b(?:(?!\bto\b).)*\bcolou?rs?\b(?! temperature)"
    r"|\bcolou?rs? change\b)"
)
# Colours a "different colour" steps through, in order; white and black are no colour to rotate to.
_NOT_ROTATED = ("white", "black")
# Words an answer naming a device may carry besides the name ("the one in the study, please").
ANSWER_FILLERS = frozenset(
    ("the", "a", "an", "my", "our", "in", "at", "please", "one", "that", "this", "just", "it", "is", "and")
)
# The question of a command that names no device at all ("power off"): any of the home's may be meant.
ANY_DEVICE = "which device do you mean?"
_WORD = re.compile(r"[a-z0-9']+")
# An answer is short: a longer utterance is a command of its own.
_MAX_ANSWER_WORDS = 6
# What joins the places or devices of one answer ("the kitchen and the study").
_AND = re.compile(r"\s*(?:,|\band\b|\bplus\b)\s*")


@dataclass(frozen=True)
class Question:
    """A command that lacks only a value, waiting for the answer to its question."""

    intent: str
    slots: dict[str, Any]
    targets: list[str]
    confidence: float
    source: Literal["template", "model"]
    deadline: float = 0.0
    missing: Literal["value", "target"] = "value"
    asked: str = ""  # the question as said ("which lamp do you mean: ...?"), to ask it again


@dataclass(frozen=True)
class Confirmation:
    """A command held by the safety policy until a yes, or until ``deadline``.

    ``also``: more commands of the same utterance that the same yes runs ("unlock the front door
    and open the garage door" asks once for both).
    """

    command: Command
    deadline: float
    also: tuple[Command, ...] = ()

    @property
    def commands(self) -> tuple[Command, ...]:
        """Every command the yes runs, in the order spoken."""
        return (self.command, *self.also)


@dataclass
class Dialogue:
    """What one conversation remembers between utterances (see the module docstring)."""

    question: Question | None = None
    confirmation: Confirmation | None = None
    colours: dict[str, str] = field(default_factory=dict)
    # The room this conversation is in (a satellite's, from its `area`); None: the parser's [nlu] area.
    area: str | None = None
    # Whether the last utterance parsed answered the question: a confirmation asked beside that
    # question still waits ("unlock the door and dim the lamp", then "the floor lamp").
    answered: bool = False
    # The last command understood, which a follow-up goes on from ("and the study lamp", "turn it off").
    last: Recent | None = None

    def recent(self) -> Recent | None:
        """The last command, while a follow-up may still go on from it."""
        last = self.last
        return last if last is not None and time.monotonic() <= last.deadline else None

    def waiting(self) -> bool:
        """Whether a question or a confirmation still waits for its answer."""
        now = time.monotonic()
        return any(w is not None and now <= w.deadline for w in (self.question, self.confirmation))

    def take_question(self) -> Question | None:
        """The question still open, removed: one utterance answers it or drops it."""
        question, self.question = self.question, None
        if question is None or time.monotonic() > question.deadline:
            return None
        return question


def answer_question(question: Question, text: str, catalog: Catalog, home: Home) -> IntentResult | None:
    """The answer to ``question`` ("red", "fifty percent"; "the bed light", "in the office" when it
    asked for the device), or None for anything else.

    Only a short answer that states what is missing, and nothing else of the command (a value
    question's answer names no device or place), completes the command; any other utterance is
    parsed on its own.
    """
    joins = question.missing == "target" and not _joined_name(text, home)
    if joins and len(parts := [p for p in _AND.split(text.lower()) if p.strip()]) > 1:
        return _several(question, text, parts, catalog, home)
    norm = normalize_text(text)
    if not norm or len(norm.split()) > _MAX_ANSWER_WORDS:
        return None
    spec = catalog.intents[question.intent]
    if question.missing == "target" and question.targets and _every_one(norm):
        # "Both", "all of them": every device the question offered.
        return IntentResult(
            text=text,
            intent=question.intent,
            slots=dict(question.slots),
            targets=list(question.targets),
            confidence=question.confidence,
            source=question.source,
        )
    if question.missing == "target":  # "the kitchen one": the kitchen's
        one = number_table().pronoun
        norm = " ".join(w for w in norm.split() if w not in (one, f"{one}s")) if one else norm
    said = extract_slots(spec, home, norm)
    placed = said.keys() & {"name", "area", "floor"}
    if question.missing == "target":
        given = {k: v for k, v in said.items() if k in ("name", "area", "floor", "domain", "device_class")}
        if not placed:
            return None
        named = {e.id for e in home.entities_named(str(given.get("name", "")))}
        names = [n for e in home.entities_named(str(given.get("name", ""))) for n in e.names]
        if named and question.targets and not named & set(question.targets) and says_more(norm, names):
            return None  # "pause the vacuum" after "which lamp?": a command of its own
    else:
        given = {k: v for k, v in said.items() if k in spec.require_one_of}
        if not given or placed:
            return None
    try:
        slots = finalize_slots(spec, home, {**question.slots, **given})
        targets = resolve_targets(spec, home, slots) if question.missing == "target" else question.targets
        if question.missing == "target" and question.targets and "name" not in given:
            targets = _among(targets, question.targets, slots)
    except Unresolved as exc:
        return IntentResult(text=text, source=question.source, confidence=question.confidence, reason=str(exc))
    return IntentResult(
        text=text,
        intent=question.intent,
        slots=slots,
        targets=targets,
        confidence=question.confidence,
        source=question.source,
    )


def _joined_name(text: str, home: Home) -> bool:
    """Whether ``text`` says a name that holds "and" ("the Salt and Pepper Lamp")."""
    low = f" {normalize_text(text)} "
    names = [n for e in home.entities for n in e.names] + [n for a in home.areas for n in (a.name, *a.aliases)]
    return any(f" {normalize_text(n)} " in low for n in names if _AND.search(n.lower()))


def _several(question: Question, text: str, parts: list[str], catalog: Catalog, home: Home) -> IntentResult | None:
    """ "The kitchen and the study": the answer of each part, one command on all they name."""
    answers = [answer_question(question, part, catalog, home) for part in parts]
    if any(a is None for a in answers):
        return None
    first = answers[0]
    assert first is not None
    for answer in answers[1:]:
        assert answer is not None
        if answer.intent is None:
            return answer.model_copy(update={"text": text})
        first = joined(first, answer, text, home) if first.intent is not None else first
    return first.model_copy(update={"text": text})


def _among(found: list[str], offered: list[str], slots: dict[str, Any]) -> list[str]:
    """The devices the question offered that a place answer ("in the living room") picks; not
    every device there ("which lamp?" answered by the room turned on its fan and TV too)."""
    picked = [t for t in found if t in offered]
    if not picked:
        where = slots.get("area") or slots.get("floor")
        raise Unresolved(f"none of them is in the {where}" if where else "none of them is there")
    return picked


def says_more(norm: str, names: Iterable[str]) -> bool:
    """Whether the normalised words ``norm`` say more than ``names``, the answer fillers and kind
    words: a command of its own ("pause the vacuum", "turn off the bed light"), not an answer that
    names a device or a place ("the bed light", "in the office")."""
    named = {w for name in names for w in _WORD.findall(name.lower())}
    return any(w not in named and w not in ANSWER_FILLERS and not domain_table().domain_of(w) for w in norm.split())


_EVERY_ONE = frozenset(("both", "all", "each", "every", "everything", "everywhere", "whole", "entire"))
_EVERY_ONE_FILLER = frozenset(
    ("of", "them", "one", "ones", "the", "please", "lights", "devices", "in", "house", "home", "rooms", "room")
)


def _every_one(norm: str) -> bool:
    """Whether an answer says "every one of them" ("both", "all of them", "each one please")."""
    words = set(norm.split())
    return bool(words & _EVERY_ONE) and words <= _EVERY_ONE | _EVERY_ONE_FILLER


def wants_another_colour(spec: IntentSpec, text: str) -> bool:
    """True when the words ask for a new colour without naming one ("make it a different colour")."""
    return "color" in spec.slots and "color" in spec.require_one_of and bool(_ANOTHER_COLOUR.search(text.lower()))


def next_colour(
    spec: IntentSpec, targets: list[str], colours: Mapping[str, str], entities: Mapping[str, Entity]
) -> str:
    """The colour after the one the targets have now.

    The current colour is the one this conversation last set, else the entity's ``color``
    attribute; unknown means the first colour of the cycle.
    """
    cycle = [v for v in spec.slots["color"].values if v not in _NOT_ROTATED]
    current = next(
        (str(colours.get(t) or entities[t].attributes.get("color", "")).lower() for t in targets if t in entities),
        "",
    )
    return cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else cycle[0]
