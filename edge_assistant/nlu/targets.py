"""Targets read from the text on the model path: device names, areas, floors and domains, only
from names that exist in the home, and names as people say them (``nlu.names``).

In order, a device is: a name said exactly; a qualified one ("the right lamp", "the upstairs
one", "the other fan"); a name that is a class word, said on its own ("the tv"); a slip of a name
("the study lab"); a sensor said by what it measures ("what is the humidity"). Areas and floors:
said exactly, or a slip ("the dinning room"). What names nothing in the home is kept as said, so
that validation refuses it rather than acting on every device of a kind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import IntentSpec
from edge_assistant.nlu.names import (
    DETERMINERS,
    POSITIONS,
    SpokenNames,
    as_class,
    class_domain,
    measure_of,
    qualified,
)
from edge_assistant.nlu.resolve import SWITCHABLE
from edge_assistant.nlu.words import domain_table

__all__ = ["DOMAIN_WORDS", "GENERIC_MODIFIERS", "find_names", "names_said", "other_kind", "target_slots"]

# Spoken words for domains and device classes as (pattern, domain, device class); the first match
# wins. From the language's table (intents/en/domain_words.yaml).
DOMAIN_WORDS: tuple[tuple[str, str, str | None], ...] = tuple(
    (d.pattern, d.domain, d.device_class) for d in domain_table().domains
)
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
_ONE = r"1|one"  # "the upstairs one" (normalised text spells it "1")
_WHEN = {"a", "an", "minute", "minutes", "moment", "second", "seconds", "hour", "hours", "bit", "while", "sec", "min"}
_HERE = {"here", "there", "this room", "the house", "house", "home", "everywhere", "general", "apartment", "flat"}
# How a room is, not which: "sitting in the dark", "the light should be in dim".
_HOW = {"dark", "darkness", "dim", "bright", "colour", "color"}


def _has(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(rf"\b(?:{pattern})\b", text)


def _words(spoken: Sequence[str]) -> set[str]:
    return {w for name in spoken for w in re.findall(r"[a-z0-9']+", name)}


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


@dataclass(frozen=True)
class _Names:
    """The home's spoken names, split by how they may be heard."""

    entities: SpokenNames  # names that are names
    generic: dict[str, str]  # names that are a class word of their own kind ("tv"): names when said alone
    areas: SpokenNames
    floors: SpokenNames
    places: frozenset[str]  # words of area and floor names
    named: frozenset[str]  # words of every name of the home
    known: frozenset[str]  # those, class words, and words that qualify a device
    place_names: re.Pattern[str] | None  # any area or floor name said, longest first

    @classmethod
    def of(cls, home: Home) -> _Names:
        """The name maps of ``home``."""
        classes = as_class(home)
        entities: dict[str, str] = {}
        generic: dict[str, str] = {}
        for entity in home.entities:
            for i, spoken in enumerate(n.lower() for n in entity.names):
                table = generic if class_domain(spoken) == entity.domain else entities
                if spoken in classes or (i > 0 and spoken in table):
                    continue  # an alias never takes the place of a name: "lamp" stays the Lamp's
                table[spoken] = entity.name
        areas = {n.lower(): a.name for a in home.areas for n in (a.name, *a.aliases)}
        floors = {n.lower(): f.name for f in home.floors for n in (f.name, *f.aliases)}
        places = frozenset(_words([*areas, *floors]))
        named = frozenset(_words([*entities, *generic])) | places
        domain_words = [w for d in domain_table().domains for w in d.words]
        known = named | _words([*classes, *domain_words]) | GENERIC_MODIFIERS | POSITIONS
        said = "|".join(map(re.escape, sorted((*areas, *floors), key=len, reverse=True)))
        place_names = re.compile(rf"(?<=\s)(?:{said})s?(?=\s)") if said else None
        return cls(
            SpokenNames(entities),
            generic,
            SpokenNames(areas),
            SpokenNames(floors),
            places,
            named,
            frozenset(known),
            place_names,
        )


_NAMES: dict[int, tuple[Home, _Names]] = {}


def _names_of(home: Home) -> _Names:
    """The name maps of ``home``, built once per home (a parser keeps one home for its life)."""
    held = _NAMES.get(id(home))
    if held is None or held[0] is not home:
        if len(_NAMES) >= 8:
            _NAMES.clear()
        held = _NAMES[id(home)] = (home, _Names.of(home))
    return held[1]


# Only a definite word points at one device: "the left lamp", not "a lower light".
_DEFINITE = ("the", "my", "our", "that", "this")


@cache
def _qualifier_pattern() -> tuple[re.Pattern[str], frozenset[str]]:
    """ "the <one or two words> <class noun or one>", and the class nouns of the domain table."""
    classes = frozenset(w for d in domain_table().domains for w in d.words)
    nouns = "|".join(re.escape(w) for w in sorted(classes, key=len, reverse=True))
    return re.compile(rf"\b(?:{'|'.join(_DEFINITE)}) ((?:[a-z']+ ){{1,2}}?)({nouns}|{_ONE})\b"), classes


def _qualifiers(match: re.Match[str], names: _Names, classes: frozenset[str]) -> tuple[list[str], str] | None:
    """The qualifier words and the noun ("one" or a class noun) of a phrase that picks one device.

    None for a plural, a word the home does not know (an unknown device), a class word before
    the noun ("the plug socket"), or words that only place a class ("the kitchen light"). "One"
    takes a place or a position ("the upstairs one"), not any word ("the next one week").
    """
    words = [w for w in match.group(1).split() if w not in classes]
    noun = "one" if re.fullmatch(_ONE, match.group(2)) else match.group(2)
    plural = noun.endswith("s") and (noun[:-1] in classes or noun[:-2] in classes)
    if plural or not words or any(w in DETERMINERS or w not in names.known for w in words):
        return None
    positional = any(w in POSITIONS for w in words)
    if noun == "one":
        return (words, noun) if all(w in names.places or w in POSITIONS for w in words) else None
    named = any(w not in names.places and w not in GENERIC_MODIFIERS for w in words)
    return (words, noun) if positional or named else None


def _qualified_name(spec: IntentSpec, home: Home, names: _Names, text: str, recent: Sequence[str]) -> str | None:
    """ "the right lamp", "the upstairs one", "the other fan": the one device the words pick out.

    The name of that device; the words as said when they pick several (or none), so that
    validation asks which; None when the words qualify nothing (a place and a class: "the
    kitchen lights" stays the kitchen's lights).
    """
    pattern, classes = _qualifier_pattern()
    for match in pattern.finditer(text):
        found = _qualifiers(match, names, classes)
        if found is None:
            continue
        words, noun = found
        domain = domain_table().domain_of(noun)
        domains = {domain} if domain else set(spec.domains or SWITCHABLE)
        if noun == "one" and recent:
            domains &= {e.domain for e in home.entities if e.id in recent} or domains
        place = [w for area in find_names(text, names.areas.names) for w in area.lower().split()]
        pool = qualified(home, [*words, *place], domains, recent)
        if len(pool) == 1:
            return pool[0].name
        if noun == "one" or pool or any(w in POSITIONS for w in words):
            return f"{' '.join(words)} {noun}"
    return None


def _generic_name(home: Home, names: _Names, text: str, spec: IntentSpec) -> str | None:
    """A name that is a class word of its own kind ("the tv"), when said on its own.

    Not when said in the plural, nor after a word that makes it another device ("the hall
    light"; a class word says what it serves: "the tv socket"), nor with a place its device is
    not in (unless it roams): then it is the class.
    """
    for spoken, canonical in names.generic.items():
        if not re.search(rf"(?<![\w']){re.escape(spoken)}(?![\w'])", text):
            continue
        unknown = _unknown_device(text, spec, names)
        if unknown is not None and domain_table().domain_of(unknown.split()[0]) is None:
            return None  # "the hall light"; but "the tv socket" is the socket the tv is on
        places = [home.area(a) for a in find_names(text, names.areas.names)]
        entity = home.entities_named(canonical)[0]
        # A robot that roams goes to the place said: the place is no reason to read a class.
        elsewhere = entity.area is not None and any(home.area_of(entity) != area for area in places)
        return None if elsewhere and not spec.roaming else canonical
    return None


def _device_name(
    spec: IntentSpec, home: Home, names: _Names, text: str, recent: Sequence[str]
) -> tuple[str | None, str]:
    """The device named, and the text left for places and domains."""
    found = find_names(text, names.entities.names)
    if found:
        return found[0], re.sub(re.escape(found[0].lower()), " ", text)
    said = _qualified_name(spec, home, names, text, recent) or _generic_name(home, names, text, spec)
    if said is not None:
        return said, text
    near = names.entities.near(text, names.known)
    if near is not None:
        return near.name, text.replace(near.said, " ")
    return _measured(spec, home, names, text), text


def _reads_sensors(spec: IntentSpec) -> bool:
    """An intent that sensors answer: its domains hold "sensor", or it asks a device's state (its
    ``state`` slot). Never one that acts: "turn off the temperature" switches no sensor."""
    return "sensor" in spec.domains or "state" in spec.slots


def _measured(spec: IntentSpec, home: Home, names: _Names, text: str) -> str | None:
    """ "what is the humidity", "how humid is it": the one sensor of the home (of the place said, if
    one is) that measures what ``text`` names, for an intent that sensors answer. Never a measure
    the intent reads itself: "what is the temperature" asks the thermostats too, not one sensor.
    None when no such measure is said, or no sensor or several measure it."""
    if not _reads_sensors(spec):
        return None
    places = [home.area(a) for a in find_names(text, names.areas.names)]
    for measure in domain_table().measures_said(text):
        if measure in spec.measures:
            continue
        sensors = [e for e in home.entities if measure_of(e) == measure]
        here = [e for e in sensors if home.area_of(e) in places] if places else sensors
        if len(here) == 1:
            return here[0].name
    return None


def _place(text: str, places: SpokenNames, known: frozenset[str]) -> str | None:
    """The area (or floor) said exactly, else the one a slip nearly names ("the dinning room")."""
    found = find_names(text, places.names)
    if found:
        return found[0]
    near = places.near(text, known)
    return near.name if near is not None else None


def names_said(home: Home, text: str) -> set[str]:
    """The spoken forms of the home's devices, areas and floors that normalised ``text`` holds as
    words ("study" and "study lamp" in "turn on the study lamp")."""
    names, padded = _names_of(home), f" {text} "
    return {
        spoken
        for table in (names.entities, names.areas, names.floors)
        for spoken in table.names
        if re.search(rf"(?<=\s){re.escape(spoken)}s?(?=\s)", padded)
    }


def target_slots(spec: IntentSpec, home: Home, text: str, recent: Sequence[str] = ()) -> dict[str, Any]:
    """The name, area, floor and domain slots of ``spec`` that normalised ``text`` states."""
    names = _names_of(home)
    slots: dict[str, Any] = {}
    if "name" in spec.slots and spec.slots["name"].type == "entity":
        name, text = _device_name(spec, home, names, text, recent)
        if name is not None:
            slots["name"] = name
    if "floor" in spec.slots and (floor := _place(text, names.floors, names.known)):
        slots["floor"] = floor
    if "area" in spec.slots:
        area = _place(text, names.areas, names.known)
        if area is None and "floor" not in slots:
            # Kept as said: validation rejects it rather than acting everywhere.
            area = _unknown_place(text, {**names.entities.names, **names.generic, **names.floors.names}, spec)
        if area is not None:
            slots["area"] = area
    if "name" in spec.slots and not slots.keys() & {"name", "area", "floor"}:
        said = _unknown_device(text, spec, names)
        if said:
            # "the attic lamp" in a home without one: kept as said, so validation rejects it
            # rather than acting on every lamp.
            slots["name"] = said
    reads = "name" not in slots and _reads_sensors(spec) and spec.slots.keys() >= {"domain", "device_class"}
    measures = [m for m in domain_table().measures_said(text) if m not in spec.measures] if reads else []
    unnamed = "name" not in slots and spec.slots.keys() & {"domain", "name"}
    said_kind = _kind_said(home, text) if unnamed else None
    if measures:
        # "what is the humidity" in a home of two humidity sensors (or none): every one of them
        slots["domain"], slots["device_class"] = "sensor", measures[0]
    elif said_kind is not None and "domain" in spec.slots:
        domain, device_class = said_kind
        slots["domain"] = domain
        if device_class and "device_class" in spec.slots:
            slots["device_class"] = device_class
    elif said_kind is None and "name" in spec.slots and not slots.keys() & {"name", "area", "floor"}:
        absent = _absent_kind(home, text)
        if absent is not None:
            # "turn on the tv" in a home with no media player: kept as said, so validation rejects
            # it rather than asking which of the home's devices was meant.
            slots["name"] = absent
    every_kind = len(spec.domains) != 1  # a room's every device, not one kind's (turn on/off)
    placed_only = slots.keys() & {"area", "floor"} and not slots.keys() & {"name", "domain"}
    if every_kind and "name" in spec.slots and placed_only:
        said = _unknown_object(text, spec, names)
        if said:
            # "the telly in the living room": kept as said, so validation rejects it rather than
            # acting on everything in the room.
            slots["name"] = said
        elif "domain" in spec.slots and (kind := _kind_of_verb(text)):
            # "unlock everything in the entrance": its locks, not its lights; "turn everything off"
            # is the room's powered devices only (``resolve.POWERED``).
            slots["domain"] = kind
    return slots


# The verbs that say which kind a room's every device is: a lock's way and a cover's way.
_KIND_VERBS = {"lock": "lock", "unlock": "lock", "open": "cover", "close": "cover", "shut": "cover"}


def _kind_of_verb(text: str) -> str | None:
    """The one kind that the lock or cover verbs of ``text`` say ("close all in the study": cover)."""
    kinds = {_KIND_VERBS[w] for w in text.split() if w in _KIND_VERBS}
    return kinds.pop() if len(kinds) == 1 else None


# Words that say "everything" in a room ("switch off the power in the study") or only shape the
# sentence ("turn off the study please"), so no device is named by them.
_WHOLE = frozenset(("everything", "power", "electricity", "electrics", "things", "stuff", "devices", "appliances"))
_FILLER = frozenset((
    "please", "now", "for", "me", "us", "you", "thanks", "thank", "too", "again", "then", "and", "off", "on", "up",
    "down", "out", "back", "open", "closed", "shut", "over", "there", "here", "already", "right", "away", "soon",
    "it", "them", "one", "ones", "is", "are", "be", "if", "can", "could", "would", "will", "just", "so", "of", "to",
    "with", "by", "from", "into", "straight", "quick", "fast", "asap", "tonight", "later", "today", "first", "also",
    "as", "well", "anymore",
))  # fmt: skip


def _unknown_object(text: str, spec: IntentSpec, names: _Names) -> str | None:
    """The thing a command on a room names, when it is no word of the home: "switch on the telly in
    the living room", "turn on the gizmo in the kitchen", "open the study lines" (Whisper for "blinds").

    Two shapes only: a phrase of up to three words after "the"/"my"/"our" and before "in"/"on"
    ("the master bedroom in ..." ends in a place and is that place), and a place with one more word
    that ends the sentence (but "please"), no adverb ("the study quickly", "the kitchen straight
    away", "the living room real quick"). A phrase of the home's own words, kinds, values and
    qualifiers names the room or its devices.
    """
    known = names.known | _values_of(spec) | _spoken_of(spec) | GENERIC_MODIFIERS | _WHOLE | _FILLER

    def strange(words: list[str]) -> bool:
        return any(w not in known and not w.isdigit() and domain_table().domain_of(w) is None for w in words)

    spoken_places = sorted((*names.areas.names, *names.floors.names), key=len, reverse=True)
    ends = {name.split()[-1] for name in spoken_places}
    for match in re.finditer(r"\b(?:the|my|our) ((?:[a-z']+ ){0,2}?[a-z']+) (?:in|on|inside) ", text):
        words = [w.removesuffix("'s") for w in match.group(1).split()]
        if words[-1] not in ends and strange(words):
            return " ".join(w for w in words if w not in _FILLER)
    if spoken_places:
        place = "|".join(re.escape(p) for p in spoken_places)
        last = re.search(rf"\b(?:the|my|our) ({place}) ([a-z']+)(?: please| now| thanks| thank you)*$", text)
        word = last.group(2) if last is not None else ""
        if last is not None and word not in _FILLER and not word.endswith("ly") and strange([word]):
            return f"{last.group(1)} {word}"
    return None


def _kind_said(home: Home, text: str) -> tuple[str, str | None] | None:
    """The kind of device ``text`` names: of the home's kinds, the one whose word comes last, as the
    noun of an English phrase does ("light up the fan" is about the fan; the verb's "light" is not)."""
    best: tuple[int, int] | None = None
    found: tuple[str, str | None] | None = None
    for index, (pattern, domain, device_class) in enumerate(DOMAIN_WORDS):
        if domain not in home.domains:
            continue
        for match in re.finditer(rf"\b(?:{pattern})\b", text):
            key = (match.end(), -index)  # the last word; ending together ("garage door"), the table's order
            if best is None or key > best:
                best, found = key, (domain, device_class)
    return found


def other_kind(spec: IntentSpec, home: Home, text: str) -> str | None:
    """The devices that normalised ``text`` names by their kind alone when ``spec`` cannot act on
    that kind: "turn the fan up", read as a volume change, is about the Ceiling Fan, not the home's
    one TV. Their name when the home has one device of that kind, else the kind's word as said;
    None when a kind said fits ``spec`` ("the lamp by the tv"), when none is said, and for the
    words of a room's name ("the lights in the tv room").
    """
    if not spec.domains:
        return None
    places = _names_of(home).place_names
    rest = places.sub(" ", f" {text} ") if places is not None else text
    last: tuple[int, str, str | None, str] | None = None
    for pattern, domain, device_class in DOMAIN_WORDS:
        if domain not in home.domains:
            continue
        for match in re.finditer(rf"\b(?:{pattern})\b", rest):
            if domain in spec.domains:
                return None
            if last is None or match.end() > last[0]:
                last = (match.end(), domain, device_class, match.group(0))
    if last is None:
        return None
    _, domain, device_class, word = last
    kind = [e for e in home.entities if e.domain == domain and device_class in (None, e.device_class)]
    if not kind:
        return None
    return kind[0].name if len(kind) == 1 else word


def _absent_kind(home: Home, text: str) -> str | None:
    """The kind word said after a determiner ("the tv", "my radio") for a kind the home has no
    device of (the caller has found no kind the home has said); None otherwise."""
    for pattern, domain, _ in DOMAIN_WORDS:
        if domain in home.domains:
            continue
        match = re.search(rf"\b(?:the|my|our) ({pattern})\b", text)
        if match is not None:
            return match.group(1)
    return None


def _unknown_device(text: str, spec: IntentSpec, names: _Names) -> str | None:
    """ "the attic lamp", "the living room lamp", "turn off hallway lights": a word (or a room: "X
    room") before a device noun, after a determiner or the verb's "on"/"off", that names nothing
    the home knows."""
    match = re.search(rf"\b(?:the|my|our|that|this|on|off) ([a-z']+ rooms?|[a-z']+) ({_DEVICE_NOUN})\b", text)
    if match is None:
        # "the salt and pepper lamp": a name of two words joined by "and" before the noun.
        longer = re.search(rf"\b(?:the|my|our) ([a-z']+ and [a-z']+ )({_DEVICE_NOUN})\b", text)
        words = longer.group(1).split() if longer else []
        known = names.named | _values_of(spec) | GENERIC_MODIFIERS | _FILLER
        if longer is not None and any(w not in known and not w.isdigit() for w in words):
            return f"{' '.join(words)} {longer.group(2)}"
        # "the temperature of the toaster": the last word, after "of the", names the device.
        last = re.search(r"\bof (?:the|my|our) ([a-z']+)$", text)
        word = last.group(1).removesuffix("'s") if last else ""
        if not word or word in names.known or word in GENERIC_MODIFIERS or domain_table().domain_of(word):
            return None
        return word
    words = [w.removesuffix("'s") for w in match.group(1).split()]
    if re.fullmatch(_DEVICE_NOUN, words[-1]):
        return None  # "the light bulb", "the lamp plug"
    known = names.named | _values_of(spec) | GENERIC_MODIFIERS
    if all(w in known or w.isdigit() for w in words) or " ".join(words).removesuffix("s") in names.areas.names:
        return None  # known words, or an area said in the plural ("the living rooms lights")
    return f"{' '.join(words)} {match.group(2)}"


def _values_of(spec: IntentSpec) -> frozenset[str]:
    """The words of ``spec``'s enum values and of every slot's aliases: colours, modes, colour
    temperatures ("blue", "warm white", "cosy")."""
    return frozenset(
        word
        for slot in spec.slots.values()
        for value in (*(slot.values if slot.type == "enum" else ()), *slot.aliases)
        for word in str(value).split()
    )


def _spoken_of(spec: IntentSpec) -> frozenset[str]:
    """The words of ``spec``'s slot names and of its catalog examples: what it sets, as said
    ("dim the brightness in the study", "turn up the heat")."""
    said = [*spec.slots, *(example.text for example in spec.examples)]
    return frozenset(re.findall(r"[a-z']+", " ".join(said).lower().replace("_", " ")))


def _unknown_place(text: str, known: dict[str, str], spec: IntentSpec) -> str | None:
    """A place named after "in"/"on" that the home does not know ("in the attic"); "in blue" is a
    colour, "in the dark" how a room is and "in a minute" a time, not places."""
    match = re.search(r"\b(?:in|inside) (?:the |my |our |a |an )?([a-z]+(?: room)?)\b", text)
    if match is None:
        return None
    place = match.group(1)
    if place in _HERE or place in _WHEN or place in _HOW or place.isdigit() or place in _values_of(spec):
        return None
    return None if any(place in spoken for spoken in known) else place
