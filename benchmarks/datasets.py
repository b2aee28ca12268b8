"""Loaders for the external evaluation data in ``../shared/benchmarks`` (never for training)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import capwords
from typing import Any

import yaml

from edge_assistant.home import Area, Entity, Home
from edge_assistant.nlu.catalog import Catalog
from edge_assistant.nlu.extract import DOMAIN_WORDS, GENERIC_MODIFIERS, find_names
from edge_assistant.nlu.resolve import Unresolved, resolve_targets

__all__ = [
    "Case",
    "complete_home",
    "complete_slurp_home",
    "ha_cases",
    "ha_home",
    "negative_cases",
    "slurp_cases",
]

_FIXTURE_KEYS = ("floors", "areas", "entities")


@dataclass(frozen=True)
class Case:
    """One benchmark utterance with its expected intent and slots (None = must reject)."""

    text: str
    intent: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    context_area: str | None = None
    split: str = ""


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _key(kind: str, item: dict[str, Any]) -> str:
    return str(item.get("id") or f"{item.get('domain', '')}:{item['name']}".lower())


def ha_home(root: Path, intents: set[str]) -> Home:
    """The fixture home plus the entities, areas and floors the test files of ``intents`` add."""
    raw_dir = root / "ha_intents_en" / "raw"
    base = yaml.safe_load((raw_dir / "_fixtures.yaml").read_text(encoding="utf-8"))
    merged: dict[str, dict[str, dict[str, Any]]] = {
        kind: {_key(kind, item): item for item in base.get(kind) or []} for kind in _FIXTURE_KEYS
    }
    names = {kind: {str(i["name"]).lower() for i in merged[kind].values()} for kind in _FIXTURE_KEYS}
    for intent in sorted(intents):
        for path in sorted((raw_dir / intent).glob("*.yaml")):
            extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for kind in _FIXTURE_KEYS:
                for item in extra.get(kind) or []:
                    if str(item["name"]).lower() in names[kind]:
                        continue
                    names[kind].add(str(item["name"]).lower())
                    merged[kind][_key(kind, item)] = item
    return Home.model_validate({kind: list(merged[kind].values()) for kind in _FIXTURE_KEYS})


_TARGET_SLOTS = ("name", "area", "floor", "domain", "device_class")


def complete_home(home: Home, catalog: Catalog, cases: list[Case]) -> tuple[Home, list[Entity]]:
    """``home`` plus one entity for each case whose expected targets name nothing in it.

    Home Assistant's test harness checks only the slots of a match, so its test files name
    devices the fixture lacks ("close the kitchen windows", and no kitchen window). Resolving
    those is rightly refused; to score resolution end to end, the home gets the device the
    sentence presumes: the expected name (else "<place> <device class or domain>"), domain and
    device class, in the expected area (else an area on the expected floor). Returns the completed
    home and the entities added, which the benchmark reports.
    """
    current = home
    added: list[Entity] = []
    for case in cases:
        spec = catalog.intents.get(case.intent or "")
        want = {k: v for k, v in case.slots.items() if k in _TARGET_SLOTS and isinstance(v, str)}
        if spec is None or not spec.has_targets or not want.keys() & {"name", "area", "floor"}:
            continue
        try:
            resolve_targets(spec, current, want)
            continue
        except Unresolved:
            pass
        same_name = current.entities_named(want["name"]) if "name" in want else []
        domain = want.get("domain") or (same_name[0].domain if same_name else "")
        domain = domain or (spec.domains[0] if len(spec.domains) == 1 else "")
        area = current.area(want.get("area"))
        new_areas: tuple[Area, ...] = ()
        if area is None and "floor" in want and (floor := current.floor(want["floor"])) is not None:
            area = next((a for a in current.areas if a.floor == floor.id), None)
            if area is None:
                area = Area(name=f"{floor.name} Hall", floor=floor.id)
                new_areas = (area,)
        if not domain or area is None:
            continue
        place = want.get("area") or want.get("floor", "")
        name = want.get("name") or f"{place} {want.get('device_class') or domain}".title()
        entity = Entity(
            name=name,
            id=f"{domain}.bench_{len(added)}",
            domain=domain,
            area=area.id,
            device_class=want.get("device_class"),
        )
        current = current.model_copy(
            update={"areas": (*current.areas, *new_areas), "entities": (*current.entities, entity)}
        )
        added.append(entity)
    return current, added


def ha_cases(root: Path, intents: set[str]) -> list[Case]:
    """Home Assistant's English test sentences for ``intents``."""
    return [
        Case(r["text"], r["source_intent"], r["source_slots"], r.get("context_area"))
        for r in _jsonl(root / "ha_intents_en" / "ha_intents_en.jsonl")
        if r["source_intent"] in intents
    ]


# SLURP iot labels → our intents (documented in BENCHMARKS.md).
SLURP_MAP: dict[str, str] = {
    "iot_hue_lighton": "HassTurnOn",
    "iot_hue_lightoff": "HassTurnOff",
    "iot_hue_lightdim": "HassLightSet",
    "iot_hue_lightup": "HassLightSet",
    "iot_hue_lightchange": "HassLightSet",
    "iot_wemo_on": "HassTurnOn",
    "iot_wemo_off": "HassTurnOff",
    "iot_cleaning": "HassVacuumStart",
    "iot_coffee": "MakeCoffee",
}


# The domain of the device each SLURP iot scenario action acts on (wemo: a smart plug).
_SLURP_DOMAIN = {"hue": "light", "wemo": "switch", "cleaning": "vacuum", "coffee": "switch"}


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) else value or "").strip()


def _slurp_case(text: str, source_intent: str, source_slots: dict[str, Any], split: str) -> Case:
    action = source_intent.removeprefix("iot_").split("_")[0]
    slots = {k: _first(source_slots.get(k)) for k in ("house_place", "device_type")}
    slots = {k: v for k, v in slots.items() if v}
    slots["domain"] = _SLURP_DOMAIN[action]
    return Case(text, SLURP_MAP[source_intent], slots, split=split)


def slurp_cases(root: Path) -> list[Case]:
    """SLURP iot dev+test, labels mapped with ``SLURP_MAP`` (intent accuracy only).

    ``slots`` keep SLURP's own place and device annotations (``house_place``, ``device_type``)
    and the domain of its scenario action; they are never scored, only ``complete_slurp_home``
    reads them.
    """
    rows = _jsonl(root / "massive_iot" / "slurp_iot_dev_test.jsonl")
    return [
        _slurp_case(r["text"], r["normalized_intent"], r["source_slots"], r["split"])
        for r in rows
        if r["normalized_intent"] in SLURP_MAP
    ]


def dev_cases(root: Path) -> list[Case]:
    """The development set: NLU-Evaluation-Data iot rows in neither SLURP's dev nor its test.

    The same scenarios, labels and annotations as ``slurp_cases``, from other speakers. Parser,
    training-data and adapter choices are made on these and ``dev_negative_cases`` first; SLURP
    is run after.
    """
    rows = _jsonl(root / "massive_iot" / "nlu_eval_data_iot_cv_union.jsonl")
    return [
        _slurp_case(r["text"], r["source_intent"], r["source_slots"], "dev")
        for r in rows
        if r["split"] == "not_in_slurp_dev_test" and r["source_intent"] in SLURP_MAP
    ]


def dev_negative_cases(root: Path) -> list[Case]:
    """Development negatives: SLURP's non-iot *dev* rows that no Home Assistant intent covers."""
    rows = _jsonl(root / "massive_iot" / "slurp_non_iot_dev_test.jsonl")
    return [Case(r["text"], None) for r in rows if r["split"] == "dev" and r.get("ha_scope_overlap") is None]


# house_place annotations that are no room: the whole home, "here", parts of a room.
_NOT_AN_AREA = frozenset({
    "house", "home", "flat", "apartment", "whole house", "interior", "outside the house", "house cleaning",
    "here", "room", "the room", "this room", "my room", "floor", "carpet", "carpets", "ceiling", "corner",
    "overhead", "furniture",
})  # fmt: skip
# Device annotations that name the supply, not a device: "switch off the power".
_SUPPLY = frozenset({"power", "electricity", "mains"})
_DEVICE_NOUN = {"light": "Light", "switch": "Plug", "vacuum": "Vacuum"}


def _generic_device(device: str, domain: str) -> bool:
    """ "all the lights", "blue lights", "one lamp", "the power": a device word of ``domain``, naming no device."""
    # The parser's own rule: these words before "lights" name no device ("all", "blue", "two").
    words = " ".join(w for w in device.split() if w not in GENERIC_MODIFIERS and w != "one")
    if words in _SUPPLY:
        return True
    return any(d == domain and re.fullmatch(pattern, words) for pattern, d, _ in DOMAIN_WORDS)


def complete_slurp_home(home: Home, catalog: Catalog, cases: list[Case]) -> tuple[Home, list[str]]:
    """``home`` plus the rooms and devices SLURP's annotations name and it lacks.

    SLURP speakers talk about their own homes ("turn off the garage light", "the wemo socket in
    the kitchen"); in the benchmark home those are rightly refused. To score intents end to end,
    each case whose annotated place and device do not resolve gets them: the room (when it is a
    room), else one device of the scenario's domain there, named as annotated. Only the place and
    device annotations are read, never the text; returns the home and what was added.
    """
    current = home
    added: list[str] = []
    for case in cases:
        spec = catalog.intents.get(case.intent or "")
        domain = str(case.slots.get("domain", ""))
        if spec is None or not spec.has_targets or domain not in _DEVICE_NOUN:
            continue
        place = str(case.slots.get("house_place", "")).removesuffix("'s")
        place = "" if place in _NOT_AN_AREA else place
        device = str(case.slots.get("device_type", ""))
        entity_names = {n.lower(): e.name for e in current.entities for n in e.names}
        area_names = {n.lower(): a.name for a in current.areas for n in (a.name, *a.aliases)}
        named = find_names(device, entity_names) if device else []
        generic = not device or _generic_device(device, domain)
        # "bed room" is the bedroom, as the parser's normalisation makes it.
        areas = (find_names(place, area_names) or find_names(place.replace(" ", ""), area_names)) if place else []
        area = current.area(areas[0]) if areas else (Area(name=capwords(place)) if place else None)
        want: dict[str, Any] = {"name": named[0]} if named else {"domain": domain}
        if area is not None:
            want["area"] = area.name
        if area is not None and not areas:
            current = current.model_copy(update={"areas": (*current.areas, area)})
            added.append(f"area {area.name}")
        if named or generic:
            try:
                resolve_targets(spec, current, want)
                continue
            except Unresolved:
                pass
        label = device if device and not generic else _DEVICE_NOUN[domain]
        name = f"{area.name} {label}" if area is not None and place not in label else label
        entity = Entity(
            name=capwords(name),
            id=f"{domain}.bench_slurp_{len(added)}",
            domain=domain,
            area=area.id if area is not None else None,
            aliases=(device,) if device and not generic else (),
        )
        current = current.model_copy(update={"entities": (*current.entities, entity)})
        added.append(f"{domain} {entity.name} ({area.name if area else 'no area'})")
    return current, added


def negative_cases(root: Path) -> list[Case]:
    """The 500 out-of-scope negatives: every one must be rejected."""
    return [Case(r["text"], None) for r in _jsonl(root / "massive_iot" / "negatives_non_iot_test_sample500.jsonl")]
