"""The template fast path: hassil matching over the catalog's sentences and the home's names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hassil import Intents, recognize_best
from hassil.expression import TextChunk
from hassil.intents import SlotList, TextSlotList, TextSlotValue

from edge_assistant.errors import IntentSchemaError
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.names import as_class

__all__ = ["TemplateMatch", "TemplateMatcher"]


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

    def __init__(self, catalog: Catalog, home: Home, *, context_area: str | None = None) -> None:
        data = build_intents_dict(catalog)
        try:
            self._intents = Intents.from_dict(data)
        except Exception as exc:  # hassil raises bare errors on bad templates
            raise IntentSchemaError(f"a sentence template does not parse: {exc}") from exc
        self._slot_lists = home_slot_lists(home)
        self._skip_words = data["skip_words"]
        self._context: dict[str, Any] = {"area": context_area} if context_area else {}

    def match(self, text: str) -> TemplateMatch | None:
        """Return the best template match for ``text``, or None."""
        result = recognize_best(
            text,
            self._intents,
            slot_lists=self._slot_lists,
            skip_words=self._skip_words,
            intent_context=self._context or None,
            language="en",
            best_slot_name="name",
        )
        if result is None:
            return None
        slots = {name: entity.value for name, entity in result.entities.items()}
        return TemplateMatch(result.intent.name, slots)
