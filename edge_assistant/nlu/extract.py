"""Slot extraction for the model path: values and targets read from the text itself.

The model decides *what* is asked (the intent); the values come from the words that were
said, and targets only from names that exist in the home. So the model path can never invent
a device, an area or a number.
"""

from __future__ import annotations

import re
from typing import Any

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import IntentSpec
from edge_assistant.nlu.normalize import amount_in, numbers_in
from edge_assistant.nlu.timeexpr import DURATION_SLOTS, delayed_command, durations
from edge_assistant.nlu.words import domain_table, number_table

__all__ = [
    "DOMAIN_WORDS",
    "GENERIC_MODIFIERS",
    "extract_slots",
    "find_names",
]

# Spoken words for domains and device classes as (pattern, domain, device class); the first match
# wins. From the language's table (intents/en/domain_words.yaml).
DOMAIN_WORDS: tuple[tuple[str, str, str | None], ...] = tuple(
    (d.pattern, d.domain, d.device_class) for d in domain_table().domains
)
_DOWN = (
    r"\b(dim|dimmer|darker|darken|down|lower|decrease|reduce|less|lessen|softer|quieter|attenuate|"
    r"minimi[sz]e|too bright|too loud|too much)\b"
)
# Words that ask for a change of level (a step) rather than a level; _DOWN says which way.
_CHANGE = (
    r"up|down|dim|dimmer|darker|darken|brighter|brighten|brighten\w+|lighten|louder|quieter|softer|"
    r"lower|raise|raised|higher|increase|decrease|reduce|lessen|attenuate|boost|minimi[sz]e|maximi[sz]e|"
    r"more|less|add|dark|too bright|too dark|too loud|too much"
)
# Words that are a level in percent on their own ("half", "full", "minimum").
_PERCENT_WORDS = number_table().levels
_FRACTIONS = "|".join(map(re.escape, number_table().fractions))
_COLORS_RE = r"\b({})\b"


def _has(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(rf"\b(?:{pattern})\b", text)


def find_names(text: str, names: dict[str, str]) -> list[str]:
    """Canonical names whose spoken form occurs in ``text``, longest spoken form first.

    ``names`` maps a lowercase spoken form to its canonical name; matched words are consumed
    so "kitchen light" does not also yield the area "kitchen".
    """
    found: list[str] = []
    rest = f" {text} "
    for spoken in sorted(names, key=len, reverse=True):
        pattern = rf"(?<=\s){re.escape(spoken)}s?(?=\s)"
        if re.search(pattern, rest):
            rest = re.sub(pattern, " ", rest)
            if names[spoken] not in found:
                found.append(names[spoken])
    return found


def _number_value(text: str) -> tuple[float | None, bool]:
    """The number said, and whether it is a part of a whole in percent ("3 quarters" -> 75)."""
    amount = amount_in(text)
    if amount is not None and text[amount.start : amount.end] not in _PERCENT_WORDS:
        return (round(amount.value * 100, 2), True) if amount.part else (amount.value, False)
    nums = numbers_in(text)
    if nums:
        return nums[-1], False
    for word, value in _PERCENT_WORDS.items():
        if _has(word, text):
            return float(value), False
    return None, False


def _word_forms(word: str) -> list[str]:
    """A colour word and its "-ish" forms: pink, pinkish; red, reddish; blue, bluish."""
    forms = [word, word + "ish"]
    if word.endswith("e"):
        forms.append(word[:-1] + "ish")
    if re.fullmatch(r".*[^aeiou][aeiou][bdgmnprt]", word):
        forms.append(word + word[-1] + "ish")
    return forms


def _enum_value(values: tuple[str, ...], aliases: dict[str, Any], text: str) -> str | None:
    """The enum value (or the value an alias stands for) said in ``text``, the earliest first."""
    spoken = {form: value for value in values for form in _word_forms(value)}
    spoken.update({form: str(value) for alias, value in aliases.items() for form in _word_forms(alias)})
    match = re.search(_COLORS_RE.format("|".join(map(re.escape, sorted(spoken, key=len, reverse=True)))), text)
    return spoken[match.group(1)] if match else None


def _value_slots(spec: IntentSpec, text: str) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    value, part = _number_value(text)
    # "dim the lights to 30 percent" (or "to a quarter") sets a level; "dim them by 30 percent" changes it.
    absolute = value is not None and (
        re.search(r"\bto\s+(?:the\s+)?[\d.]+|\b({})\b".format("|".join(_PERCENT_WORDS)), text)
        or (part and not re.search(rf"\bby\s+(?:a |an )?(?:\d+ )?(?:{_FRACTIONS})\b", text))
    )
    for name, slot in spec.slots.items():
        if slot.type == "enum":
            found = _enum_value(slot.values, slot.aliases, text)
            if found is not None:
                slots[name] = found
        elif slot.type == "step" and not absolute and _has(_CHANGE, text):
            size = abs(value) if value is not None and value != 0 else float(slot.default or 10)
            slots[name] = -size if re.search(_DOWN, text) else size
        elif slot.aliases and value is None:
            word = _has("|".join(map(re.escape, sorted(slot.aliases, key=len, reverse=True))), text)
            if word:
                slots[name] = slot.aliases[word.group(0)]
    if spec.slots.keys() & set(DURATION_SLOTS):
        slots.update({k: v for k, v in durations(text).items() if k in spec.slots})
        if "conversation_command" in spec.slots:
            command = delayed_command(text)
            if command:
                slots["conversation_command"] = command
    numeric = [n for n, s in spec.slots.items() if s.type in ("int", "number") and n not in DURATION_SLOTS]
    numeric = [n for n in numeric if not n.startswith("start_")]
    if value is not None and numeric and not slots.keys() & {"brightness_step", "volume_step"}:
        first = next((n for n in numeric if n != "temperature" or len(numeric) == 1), numeric[0])
        percent = (spec.slots[first].max or 0) <= 100  # a part of a whole is a level in percent
        if ("color" not in slots or first != "temperature") and (percent or not part):
            slots[first] = value
    return slots


def _target_slots(spec: IntentSpec, home: Home, text: str) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    entity_names = {n.lower(): e.name for e in home.entities for n in e.names}
    area_names = {n.lower(): a.name for a in home.areas for n in (a.name, *a.aliases)}
    floor_names = {n.lower(): f.name for f in home.floors for n in (f.name, *f.aliases)}
    if "name" in spec.slots and spec.slots["name"].type == "entity":
        names = find_names(text, entity_names)
        if names:
            slots["name"] = names[0]
            text = re.sub(re.escape(names[0].lower()), " ", text)
    if "floor" in spec.slots:
        floors = find_names(text, floor_names)
        if floors:
            slots["floor"] = floors[0]
    if "area" in spec.slots:
        areas = find_names(text, area_names)
        if areas:
            slots["area"] = areas[0]
        elif "floor" not in slots:
            unknown = _unknown_place(text, {**entity_names, **floor_names})
            if unknown:
                # Kept as said: validation rejects it rather than acting everywhere.
                slots["area"] = unknown
    if "name" in spec.slots and not slots.keys() & {"name", "area", "floor"}:
        said = _unknown_device(text, spec, home, {**entity_names, **area_names, **floor_names})
        if said:
            # "the attic lamp" in a home without one: kept as said, so validation rejects it
            # rather than acting on every lamp.
            slots["name"] = said
    if "name" not in slots and "domain" in spec.slots:
        for pattern, domain, device_class in DOMAIN_WORDS:
            if _has(pattern, text) and domain in home.domains:
                slots["domain"] = domain
                if device_class and "device_class" in spec.slots:
                    slots["device_class"] = device_class
                break
    return slots


# Words that may stand before "lamp"/"lights" without naming a device or a place of the home.
GENERIC_MODIFIERS = frozenset((
    "all", "both", "every", "each", "other", "others", "main", "big", "small", "little", "large", "front", "back",
    "side", "left", "right", "top", "bottom", "overhead", "house", "home", "room", "smart", "colored",
    "color", "colour", "outside", "outdoor", "outdoors", "indoor", "inside", "upstairs", "downstairs", "these",
    "those", "this", "that", "some", "any", "two", "three", "four", "first", "second", "third", "new", "old",
    "bright", "brighter", "dim", "dimmer", "dimmed", "white", "warm", "cool", "cold", "soft", "full", "entire",
    "whole", "same", "only", "current", "usual", "normal", "regular", "nearest", "closest", "nearby", "more",
    "less", "extra", "spare", "single", "individual", "various", "different", "several", "many", "few", "own",
    "the", "a", "an", "my", "our", "your", "their", "his", "her", "its",
    "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "turquoise", "black",
))  # fmt: skip
_DEVICE_NOUN = r"(?:lamps?|lights?|bulbs?|plugs?|sockets?|outlets?)"


def _unknown_device(text: str, spec: IntentSpec, home: Home, known: dict[str, str]) -> str | None:
    """ "the attic lamp": a word before a device noun that names nothing the home knows."""
    match = re.search(rf"\b(?:the|my|our|that|this) ([a-z']+) ({_DEVICE_NOUN})\b", text)
    if match is None:
        return None
    word = match.group(1).removesuffix("'s")
    if re.fullmatch(_DEVICE_NOUN, word):
        return None  # "the light bulb", "the lamp plug"
    known_words = {w for spoken in known for w in re.findall(r"[a-z']+", spoken)}
    colours = {str(v) for slot in spec.slots.values() if slot.type == "enum" for v in (*slot.values, *slot.aliases)}
    if word in known_words or word in colours or word in GENERIC_MODIFIERS or word.isdigit():
        return None
    return f"{word} {match.group(2)}"


_HERE = {"here", "there", "this room", "the house", "house", "home", "everywhere", "general", "apartment", "flat"}


def _unknown_place(text: str, known: dict[str, str]) -> str | None:
    """A place named after "in"/"on" that the home does not know ("in the attic")."""
    match = re.search(r"\b(?:in|inside) (?:the |my |our )?([a-z]+(?: room)?)\b", text)
    if match is None or match.group(1) in _HERE or match.group(1).isdigit():
        return None
    place = match.group(1)
    return None if any(place in spoken for spoken in known) else place


def extract_slots(spec: IntentSpec, home: Home, text: str) -> dict[str, Any]:
    """Slots of ``spec`` that the normalised ``text`` states, targets grounded in ``home``."""
    return {**_value_slots(spec, text), **_target_slots(spec, home, text)}
