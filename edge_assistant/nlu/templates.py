"""The template fast path: hassil matching over the catalog's sentences and the home's names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hassil import Intents, RecognizeResult, recognize_best
from hassil.expression import Alternative, Expression, Group, Permutation, RuleReference, Sentence, TextChunk
from hassil.intents import SlotList, TextSlotList, TextSlotValue

from edge_assistant.errors import IntentSchemaError
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.names import as_class

__all__ = ["TemplateMatch", "TemplateMatcher"]

# Words that, alone, are no name of a timer or an item ("the timer status", "a timer").
_NO_NAME = frozenset({"the", "a", "an", "my", "this", "that"})
# The room a sentence needs, when the room it is said in is unknown: matched, then left out.
_NO_ROOM = "\x00no room"
# Slots that name or place what a command acts on besides its area.
_PLACING = frozenset(("name", "floor", "domain", "device_class"))


@dataclass(frozen=True)
class TemplateMatch:
    """What a template matched: the intent and raw slot values."""

    intent: str
    slots: dict[str, Any] = field(default_factory=dict)


def _ha_data(language: str) -> dict[str, Any]:
    from home_assistant_intents import get_intents

    data = get_intents(language)
    if data is None:
        raise IntentSchemaError(f"home-assistant-intents has no sentences for language '{language}'")
    return data


def _block(block: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"sentences": list(block.templates)}
    if block.slots:
        out["slots"] = dict(block.slots)
    if block.requires_context:
        out["requires_context"] = dict(block.requires_context)
    return out


def _slot_list(spec: Any) -> dict[str, Any] | None:
    if spec.type in ("int", "number", "step"):
        low = int(spec.min) if spec.min is not None else 0
        high = int(spec.max) if spec.max is not None else 100
        return {"range": {"from": max(low, 0), "to": high}}
    if spec.type == "enum":
        return {"values": list(spec.values)}
    if spec.type == "text":
        return {"wildcard": True}
    return None


def build_intents_dict(catalog: Catalog) -> dict[str, Any]:
    """Merge Home Assistant's sentence data with the catalog into one hassil dict."""
    ha = _ha_data(catalog.language)
    intents: dict[str, Any] = {}
    lists: dict[str, Any] = dict(ha["lists"])
    for name, spec in catalog.intents.items():
        blocks: list[dict[str, Any]] = []
        if spec.source == "home-assistant":
            if name not in ha["intents"]:
                raise IntentSchemaError(f"intent '{name}' is not in home-assistant-intents", field=name)
            blocks.extend(ha["intents"][name]["data"])
        blocks.extend(_block(b) for b in spec.sentences)
        intents[name] = {"data": blocks}
        _add_custom_lists(spec, lists)
    lists.update(catalog.lists)
    return {
        "language": catalog.language,
        "intents": intents,
        "lists": lists,
        "expansion_rules": {**ha["expansion_rules"], **catalog.expansion_rules},
        "skip_words": ha.get("skip_words", []),
    }


def _add_custom_lists(spec: IntentSpec, lists: dict[str, Any]) -> None:
    if spec.source != "custom":
        return
    for slot, slot_spec in spec.slots.items():
        if slot not in lists:
            made = _slot_list(slot_spec)
            if made is not None:
                lists[slot] = made


def home_slot_lists(home: Home) -> dict[str, SlotList]:
    """The ``name``, ``area`` and ``floor`` lists from the home, with matching context.

    A name that is a class word of another kind (Home Assistant's light sensor called "Light")
    is left out: in a home with lights, "the light" is a light (``nlu.names.as_class``).
    """
    classes = as_class(home)
    names: list[TextSlotValue] = []
    for entity in home.entities:
        context: dict[str, Any] = {"domain": entity.domain}
        if entity.device_class:
            context["device_class"] = entity.device_class
        area = home.area_of(entity)
        if area is not None:
            context["area"] = area.name
        for spoken in entity.names:
            if spoken.lower() not in classes:
                names.append(TextSlotValue(TextChunk(spoken), entity.name, dict(context)))
    areas = [
        TextSlotValue(TextChunk(spoken), area.name, {"area": area.name})
        for area in home.areas
        for spoken in (area.name, *area.aliases)
    ]
    floors = [
        TextSlotValue(TextChunk(spoken), floor.name, {"floor": floor.name})
        for floor in home.floors
        for spoken in (floor.name, *floor.aliases)
    ]
    return {
        "name": TextSlotList(name="name", values=names),
        "area": TextSlotList(name="area", values=areas),
        "floor": TextSlotList(name="floor", values=floors),
    }


class TemplateMatcher:
    """Exact-phrasing matcher: hassil templates from the catalog, names from the home."""

    def __init__(self, catalog: Catalog, home: Home) -> None:
        data = build_intents_dict(catalog)
        try:
            self._intents = Intents.from_dict(data)
        except Exception as exc:  # hassil raises bare errors on bad templates
            raise IntentSchemaError(f"a sentence template does not parse: {exc}") from exc
        self._slot_lists = home_slot_lists(home)
        self._skip_words = data["skip_words"]
        # The sentences of whole-room intents (turn on/off: no device named) that need the room
        # they are said in, alone: tried with a placeholder room when none is known.
        whole_room = {n for n, spec in catalog.intents.items() if spec.has_targets and not spec.domains}
        self._room_needed = Intents.from_dict(
            {
                **data,
                "intents": {
                    name: {"data": [b for b in data["intents"][name]["data"] if _needs_area(b)]} for name in whole_room
                },
            }
        )

    def first_words(self) -> frozenset[str]:
        """Every word a sentence of the catalog can start with ("turn", "what", "dim" ...).

        A sentence that starts with a slot (``{name} on``) adds nothing: names are the home's.
        """
        words: set[str] = set()
        shared: dict[str, tuple[set[str], bool]] = {}  # the global rules' first words, worked out once
        for intent in self._intents.intents.values():
            for data in intent.data:
                rules = {**self._intents.expansion_rules, **data.expansion_rules}
                memo = shared if not data.expansion_rules else {}
                for sentence in data.sentences:
                    words |= _first_words(sentence.expression, rules, memo)[0]
        return frozenset(words)

    def texts(self) -> list[str]:
        """The catalog's sentence templates and expansion rules as written (hassil syntax)."""
        rules = [rule.text or "" for rule in self._intents.expansion_rules.values()]
        return rules + [t for i in self._intents.intents.values() for d in i.data for t in d.sentence_texts]

    def match(self, text: str, area: str | None = None) -> TemplateMatch | None:
        """Return the best template match for ``text``, or None; ``area``: the room it was said in
        ("lights off" there).

        With no room known, a turn on or off that needs one and names nothing else ("turn off
        everything") still matches, with no area: the resolver then asks which room. Other
        sentences that need the room ("turn off the lights", "what is the temperature?") stay
        unmatched, as before.
        """
        result = self._recognize(self._intents, text, area)
        if result is None and not area:
            result = self._recognize(self._room_needed, text, _NO_ROOM)
            if result is None or result.entities.get("area") is None or result.entities["area"].value != _NO_ROOM:
                return None
            if result.entities.keys() & _PLACING:
                return None  # "turn off the lights": the model's, as before
            del result.entities["area"]
        if result is None:
            return None
        slots = {
            name: entity.value
            for name, entity in result.entities.items()
            # "the timer status": a free-text name that is only an article names nothing.
            if not (entity.is_wildcard and str(entity.value).strip().lower() in _NO_NAME)
        }
        return TemplateMatch(result.intent.name, slots)

    def _recognize(self, intents: Intents, text: str, area: str | None) -> RecognizeResult | None:
        return recognize_best(
            text,
            intents,
            slot_lists=self._slot_lists,
            skip_words=self._skip_words,
            intent_context={"area": area} if area else None,
            language="en",
            best_slot_name="name",
        )


def _needs_area(block: Any) -> bool:
    """Whether a sentence block (hassil's dict) needs the room it is said in as context."""
    needs = block.get("requires_context") if isinstance(block, dict) else None
    return isinstance(needs, dict) and "area" in needs


def _first_words(
    exp: Expression, rules: dict[str, Sentence], memo: dict[str, tuple[set[str], bool]]
) -> tuple[set[str], bool]:
    """The words ``exp`` can start with, and whether it can be empty (so what follows may start)."""
    if isinstance(exp, TextChunk):
        chunk = exp.text.lower().split()
        return ({chunk[0].strip(".,!?")} if chunk else set()), not chunk
    if isinstance(exp, RuleReference):
        if exp.rule_name not in memo:
            memo[exp.rule_name] = (set(), False)  # a rule that refers to itself adds nothing more
            rule = rules.get(exp.rule_name)
            if rule is not None:
                memo[exp.rule_name] = _first_words(rule.expression, rules, memo)
        return memo[exp.rule_name]
    if not isinstance(exp, Group):
        return set(), False  # a slot: the home's names, areas and values
    if isinstance(exp, (Alternative, Permutation)):
        found: set[str] = set()
        empty = isinstance(exp, Alternative) and exp.is_optional
        for item in exp.items:
            starts, can_be_empty = _first_words(item, rules, memo)
            found |= starts
            empty = empty or (isinstance(exp, Alternative) and can_be_empty)
        return found, empty
    found = set()
    for item in exp.items:
        starts, can_be_empty = _first_words(item, rules, memo)
        found |= starts
        if not can_be_empty:
            return found, False
    return found, True
