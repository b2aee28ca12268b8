"""Slot validation and target resolution: slots -> checked values and entity ids.

An unknown device or area is an error, never mapped onto another one.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from edge_assistant.home import Entity, Home
from edge_assistant.nlu.catalog import IntentSpec, SlotSpec
from edge_assistant.nlu.names import measure_of, unnamed
from edge_assistant.nlu.normalize import to_int

__all__ = ["SWITCHABLE", "Ambiguous", "MissingValue", "Unfit", "Unresolved", "finalize_slots", "resolve_targets"]

# Domains that "turn on"/"turn off" may act on when a command names no device.
SWITCHABLE = frozenset(("light", "switch", "fan", "cover", "lock", "valve", "media_player", "input_boolean"))
# What "turn off everything in the entrance" switches: the devices that have power, never a lock,
# a door or a valve (their "off" unlocks, closes or shuts). Those go only when the verb or a name
# says so ("unlock everything in the entrance", "close all in the study").
POWERED = frozenset(("light", "switch", "fan", "media_player", "input_boolean"))
# Rooms a "which room?" question names; a home with more is asked without the list.
_ROOMS_LISTED = 4
_STEP_WORDS = {"up": 1, "increase": 1, "down": -1, "decrease": -1}


class Unresolved(ValueError):
    """A slot value or target that cannot be used; the message says why, for the user."""


class MissingValue(Unresolved):
    """The intent needs a value (a brightness, a colour ...) that the command does not state."""


class Unfit(Unresolved):
    """The command names a device that exists but that this intent cannot act on."""


class Ambiguous(Unresolved):
    """The name said is the name of devices in several rooms ("Ceiling Light" in the kitchen and
    the bedroom) and no room was said: the message asks which; ``ids`` are all of them."""

    def __init__(self, message: str, ids: list[str], *, room: bool = False) -> None:
        super().__init__(message)
        self.ids = ids
        # The question is which room ("turn off everything" with no room known); ``ids``: the
        # whole home's powered devices, which "everywhere" or "the whole house" takes.
        self.room = room


def _number(name: str, spec: SlotSpec, value: Any) -> int | float:
    if spec.type == "step" and isinstance(value, str) and value.lower() in _STEP_WORDS:
        value = _STEP_WORDS[value.lower()] * float(spec.default or 10)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Unresolved(f"{name} must be a number, not '{value}'") from None
    low = spec.min if spec.min is not None else float("-inf")
    high = spec.max if spec.max is not None else float("inf")
    if not low <= number <= high:
        raise Unresolved(f"{name} {number:g} is out of range {low:g} to {high:g}")
    if spec.type == "number":
        return int(number) if number.is_integer() else number
    return to_int(number) or 0


def _canonical(home: Home, spec: SlotSpec, name: str, value: Any, domains: tuple[str, ...] = ()) -> Any:
    text = str(value)
    if spec.type == "area":
        area = home.area(text)
        if area is None:
            raise Unresolved(f"there is no area called '{text}'")
        return area.name
    if spec.type == "floor":
        floor = home.floor(text)
        if floor is None:
            raise Unresolved(f"there is no floor called '{text}'")
        return floor.name
    if spec.type == "entity":
        entities = home.entities_named(text)
        if not entities:
            raise Unresolved(unnamed(home, text, domains or SWITCHABLE))
        return entities[0].name
    if spec.type == "enum":
        low = text.lower()
        low = str(spec.aliases.get(low, low))
        if low not in spec.values:
            raise Unresolved(f"{name} must be one of {', '.join(spec.values)}, not '{text}'")
        return low
    return text.strip()


def finalize_slots(spec: IntentSpec, home: Home, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise raw slot values against the schema; drops unknown slots."""
    slots: dict[str, Any] = {}
    for name, value in raw.items():
        slot = spec.slots.get(name)
        if slot is None or value is None or value == "":
            continue
        if slot.type in ("int", "number", "step"):
            slots[name] = _number(name, slot, value)
        else:
            slots[name] = _canonical(home, slot, name, value, spec.domains)
    if spec.require_one_of and not slots.keys() & set(spec.require_one_of):
        raise MissingValue(spec.ask or f"say a value for {' or '.join(spec.require_one_of)}")
    return slots


def _in_place(home: Home, entity: Entity, area: str | None, floor: str | None) -> bool:
    entity_area = home.area_of(entity)
    if entity_area is None:
        return entity.area is None and area is None and floor is None
    if area is not None and entity_area.name != area:
        return False
    if floor is not None:
        entity_floor = home.floor_of(entity_area)
        return entity_floor is not None and entity_floor.name == floor
    return True


def _reads(spec: IntentSpec, entity: Entity) -> bool:
    """False for a sensor that measures what ``spec`` does not read (humidity, for a temperature
    question); a sensor whose measure is unknown is taken at its word."""
    measure = measure_of(entity)
    return not spec.measures or measure is None or measure in spec.measures


def _by_name(home: Home, spec: IntentSpec, slots: dict[str, Any], here: str | None) -> list[Entity]:
    every = home.entities_named(slots["name"])
    named = [e for e in every if (not spec.domains or e.domain in spec.domains) and _reads(spec, e)]
    if every and not named:
        raise Unfit(f"the {slots['name']} cannot {spec.label}")
    area, floor = slots.get("area"), slots.get("floor")
    # An entity with no area is taken at its word: its place is simply unknown.
    placed = [e for e in named if e.area is None or _in_place(home, e, area, floor)]
    if spec.roaming and not placed:
        placed = named  # a robot that lives elsewhere still comes to clean the kitchen
    if not placed:
        where = f" in the {area or floor}" if area or floor else ""
        raise Unresolved(f"there is no {slots['name']}{where}")
    if area is None and floor is None and len(placed) > 1:
        return _one_room(home, slots["name"], placed, here)
    return placed


def _one_room(home: Home, said: str, named: list[Entity], here: str | None) -> list[Entity]:
    """The one of ``named`` meant by a name said with no room: those in the device's own room
    (``here``), when there are; else which one, when they stand in different rooms. Devices of
    one room, or with no room, stay all of them (Home Assistant's fixtures name a phone's
    sensors alike)."""
    rooms = [home.area_of(e) for e in named]
    if any(room is None for room in rooms) or len({room.id for room in rooms if room is not None}) < 2:
        return named
    here_room = home.area(here)  # by id, name or alias, in any case
    local = [e for e, room in zip(named, rooms, strict=True) if here_room is not None and room == here_room]
    if local:
        return local
    same = all(e.name.lower() == said.lower() for e in named)
    choices = [
        f"the {'one' if same else e.name} in the {room.name}" for e, room in zip(named, rooms, strict=True) if room
    ]
    question = f"which {said} do you mean: {', '.join(choices[:-1])} or {choices[-1]}?"
    raise Ambiguous(question, [e.id for e in named])


def resolve_targets(spec: IntentSpec, home: Home, slots: dict[str, Any], here: str | None = None) -> list[str]:
    """Entity ids the command acts on; ``Unresolved`` when nothing (or nothing known) fits, and
    ``Ambiguous`` when a name said with no room names devices in several rooms, none of them in
    ``here`` (the area this device stands in)."""
    if not spec.has_targets:
        return []
    if "name" in slots:
        return [e.id for e in _by_name(home, spec, slots, here)]
    domain, device_class = slots.get("domain"), slots.get("device_class")
    area, floor = slots.get("area"), slots.get("floor")
    whole_room = not spec.domains and domain is None and device_class is None
    if whole_room:
        if area is None and floor is None:
            _ask_room(home)
        domains: AbstractSet[str] = POWERED
    else:
        domains = {domain} if domain else set(spec.domains)
    fitting = [
        e
        for e in home.entities
        if e.domain in domains
        and (device_class is None or device_class in (e.device_class, measure_of(e)))
        and _reads(spec, e)
    ]
    found = [e.id for e in fitting if (area is None and floor is None) or _in_place(home, e, area, floor)]
    if spec.roaming and not found:
        found = [e.id for e in fitting]
    if not found:
        where = f" in the {area or floor}" if area or floor else ""
        if whole_room:
            raise Unresolved(f"there is nothing to switch on or off{where}")
        what = (device_class or "").replace("_", " ") or " or ".join(_spoken_kind(d) for d in sorted(domains))
        if device_class and domain == "sensor":
            what = f"{what} sensor"  # "there is no humidity sensor"
        raise Unresolved(f"there is no {what}{where}")
    return found


# Domains as a person names them in a reply: "there is no thermostat in the Bedroom".
_SPOKEN_KINDS = {"climate": "thermostat", "binary_sensor": "sensor", "input_boolean": "switch"}


def _spoken_kind(domain: str) -> str:
    return _SPOKEN_KINDS.get(domain, domain.replace("_", " "))


def _ask_room(home: Home) -> None:
    """ "Turn off everything" with no room said or known: ``Ambiguous``, asking which room or
    everywhere, when the home's powered devices stand in several rooms."""
    powered = [e for e in home.entities if e.domain in POWERED]
    rooms = list(dict.fromkeys(room.name for room in map(home.area_of, powered) if room is not None))
    if len(rooms) < 2:
        return
    if len(rooms) <= _ROOMS_LISTED:
        question = f"which room: the {', the '.join(rooms[:-1])}, the {rooms[-1]} or everywhere?"
    else:
        question = "which room do you mean, or everywhere?"
    raise Ambiguous(question, [e.id for e in powered], room=True)
