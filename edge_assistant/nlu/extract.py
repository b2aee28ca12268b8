"""Slot extraction for the model path: values and targets read from the text itself.

The model decides *what* is asked (the intent); the values come from the words that were
said, and targets only from names that exist in the home. So the model path can never invent
a device, an area or a number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import IntentSpec
from edge_assistant.nlu.normalize import amount_in, numbers_in
from edge_assistant.nlu.targets import DOMAIN_WORDS, GENERIC_MODIFIERS, find_names, target_slots
from edge_assistant.nlu.timeexpr import DURATION_SLOTS, delayed_command, durations
from edge_assistant.nlu.words import number_table

# The target rules live in nlu.targets; these names stay importable from here.
__all__ = ["DOMAIN_WORDS", "GENERIC_MODIFIERS", "extract_slots", "find_names"]

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


# A number after "the" with no unit names a thing, not a value: "turn on the lights in the 50"
# (Whisper in noise) is no brightness of 50.
_NAMED_NUMBER = re.compile(
    r"\b(?:the|my|our|this|that) -?\d+(?:\.\d+)?(?![\w.])(?! ?(?:%|percent|per cent|degrees?|kelvin)\b)"
)


def _number_value(text: str) -> tuple[float | None, bool]:
    """The number said, and whether it is a part of a whole in percent ("3 quarters" -> 75)."""
    amount = amount_in(text)
    if amount is not None and text[amount.start : amount.end] not in _PERCENT_WORDS:
        return (round(amount.value * 100, 2), True) if amount.part else (amount.value, False)
    nums = numbers_in(_NAMED_NUMBER.sub(" ", text))
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
    starts = {f"start_{unit}": unit for unit in DURATION_SLOTS if f"start_{unit}" in spec.slots}
    if starts and not spec.slots.keys() & set(DURATION_SLOTS):
        # "cancel the 5 minute timer": which timer, by the length it was started with, as Home
        # Assistant's templates read it; a length said of no timer running picks none.
        said = durations(text)
        slots.update({slot: said[unit] for slot, unit in starts.items() if unit in said})
    numeric = [n for n, s in spec.slots.items() if s.type in ("int", "number") and n not in DURATION_SLOTS]
    numeric = [n for n in numeric if not n.startswith("start_")]
    if value is not None and numeric and not slots.keys() & {"brightness_step", "volume_step"}:
        first = next((n for n in numeric if n != "temperature" or len(numeric) == 1), numeric[0])
        percent = (spec.slots[first].max or 0) <= 100  # a part of a whole is a level in percent
        if ("color" not in slots or first != "temperature") and (percent or not part):
            slots[first] = value
    return slots


def extract_slots(spec: IntentSpec, home: Home, text: str, *, recent: Sequence[str] = ()) -> dict[str, Any]:
    """Slots of ``spec`` that the normalised ``text`` states, targets grounded in ``home``.

    ``recent`` holds the entity ids the dialogue just named, for "the other fan".
    """
    return {**_value_slots(spec, text), **target_slots(spec, home, text, recent)}
