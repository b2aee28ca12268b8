"""Slot extraction for the model path: values and targets read from the text itself.

The model decides *what* is asked (the intent); the values come from the words that were
said, and targets only from names that exist in the home. So the model path can never invent
a device, an area or a number.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import IntentSpec
from edge_assistant.nlu.normalize import numbers_in

__all__ = [
    "DOMAIN_WORDS",
    "GENERIC_MODIFIERS",
    "clock_command",
    "delayed_command",
    "extract_slots",
    "find_names",
    "only_timer_words",
    "repeats",
]

# Spoken words for domains and device classes; the first match wins.
DOMAIN_WORDS: tuple[tuple[str, str, str | None], ...] = (
    (r"lights?|lamps?|bulbs?|lighting", "light", None),
    (r"fans?", "fan", None),
    (r"plugs?|sockets?|outlets?|switch(?:es)?(?! (?:on|off)\b)", "switch", None),
    (r"blinds?", "cover", "blind"),
    (r"curtains?|drapes?", "cover", "curtain"),
    (r"shades?", "cover", "shade"),
    (r"shutters?", "cover", "shutter"),
    (r"garage doors?", "cover", "garage"),
    (r"windows?", "cover", "window"),
    (r"locks?", "lock", None),
    (r"thermostats?|heating|heater|ac|air conditioning", "climate", None),
    (r"tv|television|speakers?|music|radio", "media_player", None),
    (r"vacuum|hoover|robot", "vacuum", None),
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
_PERCENT_WORDS = {
    "half": 50,
    "full": 100,
    "max": 100,
    "maximum": 100,
    "highest": 100,
    "brightest": 100,
    "min": 1,
    "minimum": 1,
    "lowest": 1,
    "dimmest": 1,
}
_COLORS_RE = r"\b({})\b"
_DURATION = {"hours": r"hours?|hrs?", "minutes": r"minutes?|mins?", "seconds": r"seconds?|secs?"}


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


def _number_value(text: str) -> float | None:
    nums = numbers_in(text)
    if nums:
        return nums[-1]
    for word, value in _PERCENT_WORDS.items():
        if _has(word, text):
            return float(value)
    return None


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


_DURATION_PHRASE = (
    r"(?:\d+\s*(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)(?:'s)?(?:\s+and\s+)?)+(?:\s*time\b)?"
    r"|half an hour|half hour"
)
# Words a plain timer request may hold besides its length ("wake me up in 20 minutes").
_TIMER_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "me",
        "us",
        "my",
        "for",
        "please",
        "can",
        "could",
        "would",
        "will",
        "you",
        "set",
        "start",
        "put",
        "make",
        "create",
        "give",
        "wake",
        "up",
        "ping",
        "alert",
        "tell",
        "let",
        "know",
        "when",
        "it",
        "is",
        "its",
        "it's",
        "done",
        "over",
        "passed",
        "have",
        "has",
        "go",
        "off",
        "ok",
        "okay",
        "hey",
        "now",
        "just",
        "and",
    ]
)


def delayed_command(text: str) -> str | None:
    """What is to be done after a delay ("turn off the lights" in "turn off the lights in 10 minutes").

    None when the text asks for a plain timer: it names a timer, or nothing beside the length
    but timer words. Home Assistant's delayed-command templates split the same way.
    """
    if _has(r"timers?|countdown|alarms?|stopwatch", text):
        return None
    match = re.search(rf"\b(?:in|after)\s+(?:{_DURATION_PHRASE})", text)
    if match is None:
        return None
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
    return None if only_timer_words(rest) else rest


_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TENS = ("twenty", "thirty", "forty", "fifty")
_HOUR_WORDS = {w: i + 1 for i, w in enumerate((*_UNITS, "ten", "eleven", "twelve"))}
_MINUTE_WORDS = {
    **{f"o {u}": i + 1 for i, u in enumerate(_UNITS)},
    **{w: 10 + i for i, w in enumerate(("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen"))},
    **{w: 16 + i for i, w in enumerate(("sixteen", "seventeen", "eighteen", "nineteen"))},
    **{t: 10 * (2 + i) for i, t in enumerate(_TENS)},
    **{f"{t} {u}": 10 * (2 + i) + j + 1 for i, t in enumerate(_TENS) for j, u in enumerate(_UNITS)},
}
_HOUR = rf"\d{{1,2}}|{'|'.join(_HOUR_WORDS)}"
_MINUTE = "|".join(sorted(_MINUTE_WORDS, key=len, reverse=True))
_MORNING = r"a ?m|in the morning"
_EVENING = r"p ?m|in the afternoon|in the evening|at night|tonight"
_CLOCK = re.compile(
    rf"\b(?:at|for) (?:"
    rf"(?P<half>half|quarter) (?P<rel>past|to) (?P<h1>{_HOUR})"
    rf"|(?P<h2>{_HOUR})(?::(?P<m1>\d{{2}})| (?P<m2>{_MINUTE}))?(?= (?:{_MORNING}|{_EVENING}|o ?clock)\b)"
    rf"|(?P<h3>{_HOUR}):(?P<m3>\d{{2}})"
    rf"|(?P<noon>noon|midday|midnight)"
    rf")(?: (?P<part>{_MORNING}|{_EVENING}|o ?clock))?\b"
)


def clock_command(text: str, now: datetime) -> tuple[str, int] | None:
    """A command for a clock time: ("turn off the lights", seconds from ``now`` until 11 pm) for
    "turn off the lights at 11 pm" (also "at 6:30", "at half past seven", "tomorrow at noon").

    None when no clock time is said, or beside it only timer words ("wake me up at 7 am"): that
    is an alarm, not a delayed command. A time without am/pm is its next occurrence.
    """
    low = " ".join(text.lower().replace("'", "").replace(".", " ").replace(",", " ").split())
    if _has(r"timers?|countdown|alarms?|stopwatch|every", low):
        return None
    match = _CLOCK.search(low)
    if match is None:
        return None
    g = match.groupdict()
    if g["noon"]:
        hour, minute, part = (0 if g["noon"] == "midnight" else 12), 0, "24h"
    else:
        said = g["h1"] or g["h2"] or g["h3"] or ""
        hour = int(said) if said.isdigit() else _HOUR_WORDS[said]
        minute_said = g["m1"] or g["m2"] or g["m3"] or ""
        minute = int(minute_said) if minute_said.isdigit() else _MINUTE_WORDS.get(minute_said, 0)
        if g["half"]:
            minute = 30 if g["half"] == "half" else 15
            if g["rel"] == "to":  # "quarter to one" is 12:45
                hour, minute = (hour - 1 if hour > 1 else 12), 60 - minute
        part = g["part"] or ""
        if hour > 12 or hour == 0:
            part = "24h"
    if hour > 23 or minute > 59:
        return None
    rest = " ".join((low[: match.start()] + " " + low[match.end() :]).split())
    tomorrow = _has("tomorrow", rest) is not None
    rest = " ".join(re.sub(r"\b(?:tomorrow|today|tonight)\b", " ", rest).split())
    if not rest or only_timer_words(rest):
        return None
    if re.fullmatch(_MORNING, part):
        hours = [hour % 12]
    elif re.fullmatch(_EVENING, part):
        hours = [hour % 12 + 12]
    elif part == "24h":
        hours = [hour]
    else:  # "at 7 o'clock", "at 6:30": whichever comes first
        hours = [hour % 12, hour % 12 + 12]
    base = now.replace(second=0, microsecond=0) + timedelta(days=1 if tomorrow else 0)
    times = [base.replace(hour=h, minute=minute) for h in hours]
    later = [t if t > now else t + timedelta(days=1) for t in times]
    # Wall-clock times to seconds through the local time zone's rules: right across a DST change.
    # At least a second: "at 9 pm" said at 20:59:59.7 is a timer of one second, not of none.
    return rest, max(1, int(min(later).timestamp() - now.timestamp()))


def only_timer_words(text: str) -> bool:
    """True for what a plain timer request holds beside its length ("wake me up", "let me know")."""
    return not set(text.lower().split()) - _TIMER_WORDS


def repeats(text: str) -> bool:
    """ "every 30 minutes": a repeating request, which no timer intent carries out."""
    return bool(re.search(rf"\bevery\s+(?:other\s+)?(?:{_DURATION_PHRASE}|hours?|minutes?|day|week)\b", text))


def _durations(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for slot, unit in _DURATION.items():
        # "the 22nd" said as "twenty second of march" is a date, not a duration.
        match = re.search(rf"(\d+)\s*(?:{unit})\b(?! of\b)", text)
        if match:
            out[slot] = int(match.group(1))
    if "minutes" not in out and _has(r"half an hour|half hour", text):
        out["minutes"] = 30
    return out


def _value_slots(spec: IntentSpec, text: str) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    value = _number_value(text)
    # "dim the lights to 30 percent" sets a level; "dim them by 30 percent" changes it.
    absolute = value is not None and re.search(
        r"\bto\s+(?:the\s+)?[\d.]+|\b({})\b".format("|".join(_PERCENT_WORDS)), text
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
    if spec.slots.keys() & _DURATION.keys():
        slots.update({k: v for k, v in _durations(text).items() if k in spec.slots})
        if "conversation_command" in spec.slots:
            command = delayed_command(text)
            if command:
                slots["conversation_command"] = command
    numeric = [n for n, s in spec.slots.items() if s.type in ("int", "number") and n not in _DURATION]
    numeric = [n for n in numeric if not n.startswith("start_")]
    if value is not None and numeric and not slots.keys() & {"brightness_step", "volume_step"}:
        first = next((n for n in numeric if n != "temperature" or len(numeric) == 1), numeric[0])
        if "color" not in slots or first != "temperature":
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
