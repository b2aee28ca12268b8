"""Names as people say them, as rules over the home: class words, slips and qualifiers.

- **A class word is a class.** A name that is only a class word ("Light", "heater") names its
  entity only when that entity is of the class the word names (a media player called "TV"), or
  when the home has no device of that class; Home Assistant's binary sensor called "Light" is
  never what "the lights" or "the hall light" mean (``as_class``).
- **A slip names the one thing it nearly names** (``near_name``): "dinning room", "study lab".
  Every word of a name must be said, all but one exactly (or the words run together: "bed
  room"), and the odd word within one sound of the name's word; the best name must beat the
  runner-up by a margin. A one-word name must be said (run together or split at most):
  "commuter" is one sound from "computer". Never a word for a whole area or the home.
- **A name the ear missed is weighed, not guessed** (``unknown_said``, ``renamings``): when a
  heard sentence is refused for a device or place the home lacks ("the incubi"), the sentence
  with each of the home's names in its place is a candidate for the speech engine to weigh on
  the audio (``Assistant.heard_name``).
- **A sensor is said by what it measures** (``measure_of``): "what is the humidity" asks the one
  humidity sensor; a sensor with no device class measures what its name says ("Outdoor
  Humidity"), and a temperature question is never answered by it.
- **Qualifiers pick among devices of one kind** (``qualified``): "the right lamp" is the one lamp
  whose name holds "right", "the upstairs one" the one device upstairs, "the other fan" the fan
  that was not just named. One device, or a question: never every lamp of the home.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_assistant.home import Entity, Home
from edge_assistant.nlu.normalize import compact
from edge_assistant.nlu.words import domain_table

__all__ = [
    "DETERMINERS",
    "POSITIONS",
    "NearName",
    "SpokenNames",
    "as_class",
    "class_domain",
    "entity_words",
    "measure_of",
    "near_name",
    "qualified",
    "renamings",
    "slip_cost",
    "unknown_said",
    "unnamed",
    "which",
]

DETERMINERS = frozenset(("the", "a", "an", "my", "our", "your", "that", "this", "those", "these"))
# Words that tell devices of one kind apart by where they stand; "other" by what was just named.
# ("lower" is left out: "a lower light" asks for less light.)
POSITIONS = frozenset(("left", "right", "upper", "top", "bottom", "middle", "centre", "center", "other"))
# Letters that sound alike: swapping one for another costs half an edit ("lab" for "lamp").
_ALIKE = ("aeiouy", "bpm", "mn", "dt", "gkcq", "scz", "fv")
_SLIP = 1.0  # the most a word may be off, in edits (a sound-alike letter counts half)
_MIN_SIMILARITY = 0.7
_MARGIN = 0.1
_LISTED = 4  # a question names at most this many devices
_UNKNOWN = re.compile(r"there is no (device|area) called '(.+)'")


def class_domain(spoken: str) -> str | None:
    """The domain a name made only of a class word names ("the lights" -> light), or None."""
    words = [w for w in spoken.lower().split() if w not in DETERMINERS]
    return domain_table().domain_of(" ".join(words)) if words else None


def measure_of(entity: Entity) -> str | None:
    """What a sensor measures: its device class, else the measure its name says ("Outdoor
    Humidity" -> humidity); None for a sensor whose name says none, and for every other domain."""
    if entity.domain != "sensor":
        return None
    if entity.device_class:
        return entity.device_class
    for name in entity.names:
        said = domain_table().measures_said(name.lower())
        if said:
            return said[0]
    return None


def as_class(home: Home) -> set[str]:
    """Spoken names (lower case) that mean their class, not their entity.

    A class word naming an entity of another kind, in a home that has devices of that class:
    "light" for a light sensor where there are lights.
    """
    out: set[str] = set()
    for entity in home.entities:
        for spoken in entity.names:
            domain = class_domain(spoken)
            if domain is not None and domain != entity.domain and domain in home.domains:
                out.add(spoken.lower())
    return out


_ALIKE_PAIRS = frozenset((a, b) for group in _ALIKE for a in group for b in group)


def _alike(a: str, b: str) -> bool:
    return a == b or (a, b) in _ALIKE_PAIRS


def slip_cost(said: str, name: str) -> float:
    """Edits from ``said`` to ``name``; a sound-alike letter, or a letter beside its like, costs half."""
    prev = [0.0]
    for j in range(len(name)):
        prev.append(prev[j] + (0.5 if j and _alike(name[j], name[j - 1]) else 1.0))
    for i, a in enumerate(said, 1):
        drop = 0.5 if (i > 1 and _alike(a, said[i - 2])) or (i < len(said) and _alike(a, said[i])) else 1.0
        row = [prev[0] + drop]
        for j, b in enumerate(name, 1):
            add = 0.5 if (j > 1 and _alike(b, name[j - 2])) or (j < len(name) and _alike(b, name[j])) else 1.0
            swap = 0.0 if a == b else (0.5 if _alike(a, b) else 1.0)
            row.append(min(prev[j] + drop, row[j - 1] + add, prev[j - 1] + swap))
        prev = row
    return prev[-1]


def _similarity(said: Sequence[str], name: Sequence[str], known: frozenset[str]) -> float:
    """How nearly the words ``said`` name ``name`` (1.0 exactly), 0.0 when they are no slip of it."""
    letters = len("".join(name))
    if len(said) != len(name):
        # Words run together or split ("bed room" for "bedroom"): the same letters.
        return 0.95 if "".join(said) == "".join(name) else 0.0
    odd = [(s, n) for s, n in zip(said, name, strict=True) if s != n and s != n + "s"]
    if len(odd) != 1:
        return 0.0
    s, n = odd[0]
    if len(name) == 1 or s in known or s in DETERMINERS or s[0] != n[0]:
        return 0.0  # a one-word name must be said (too many words are one sound from another)
    cost = slip_cost(s, n)
    return 0.0 if cost > _SLIP else 1.0 - cost / letters


@dataclass(frozen=True)
class NearName:
    """The name a slip nearly says: the canonical name and the words of the text it covers."""

    name: str
    said: str


class SpokenNames:
    """Spoken forms of names (lower case -> canonical), indexed once to find slips of them fast."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self._by_word: dict[str, set[str]] = {}
        for spoken in names:
            words = spoken.split()
            keys = ["".join(words), *(words if len(words) > 1 else [])]
            for key in keys:
                self._by_word.setdefault(key, set()).add(spoken)

    def _candidates(self, words: list[str]) -> set[str]:
        keys = set(words) | {w[:-1] for w in words if w.endswith("s")}
        keys.update("".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1))
        return {spoken for key in keys for spoken in self._by_word.get(key, ())}

    def near(self, text: str, known: frozenset[str]) -> NearName | None:
        """The one canonical name that words of ``text`` nearly say, by a margin over the runner-up.

        ``known`` holds words that name something else of the home: never taken for a slip.
        """
        words = text.split()
        index = _Index(words)
        best: dict[str, tuple[float, str]] = {}
        for spoken in self._candidates(words):
            target = spoken.split()
            for i, size in index.windows(target):
                score = _similarity(words[i : i + size], target, known)
                if score > best.get(self.names[spoken], (0.0, ""))[0]:
                    best[self.names[spoken]] = (score, " ".join(words[i : i + size]))
        ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)
        if not ranked or ranked[0][1][0] < _MIN_SIMILARITY:
            return None
        if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < _MARGIN:
            return None
        return NearName(ranked[0][0], ranked[0][1][1])


class _Index:
    """Where each word of a text stands, and its runs of words glued together: a cheap filter of
    the runs that may be a slip of a name."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.at: dict[str, list[int]] = {}
        self.glued: dict[str, list[tuple[int, int]]] = {}
        for i, word in enumerate(words):
            self.at.setdefault(word, []).append(i)
            for size in range(2, min(4, len(words) - i) + 1):
                self.glued.setdefault("".join(words[i : i + size]), []).append((i, size))

    def windows(self, target: list[str]) -> set[tuple[int, int]]:
        """(start, length) of the runs that may say ``target``."""
        joined, size = "".join(target), len(target)
        found = {(i, 1) for i in self.at.get(joined, ()) if size > 1}  # run together
        found.update(run for run in self.glued.get(joined, ()) if run[1] != size)  # split
        if size > 1:
            for k, word in enumerate(target):
                for i in (*self.at.get(word, ()), *self.at.get(word + "s", ())):
                    if 0 <= i - k <= len(self.words) - size:
                        found.add((i - k, size))
        return found


def near_name(text: str, names: dict[str, str], known: Iterable[str] = ()) -> NearName | None:
    """``SpokenNames(names).near(text, known)``, for one look-up."""
    return SpokenNames(names).near(text, frozenset(known))


def entity_words(home: Home, entity: Entity) -> set[str]:
    """Words that tell ``entity`` apart: of its names, its area's names and its floor's names."""
    area = home.area_of(entity)
    floor = home.floor_of(area)
    spoken = [*entity.names]
    if area is not None:
        spoken += [area.name, *area.aliases]
    if floor is not None:
        spoken += [floor.name, *floor.aliases]
    return {w for name in spoken for w in re.findall(r"[a-z0-9']+", name.lower())}


def qualified(home: Home, words: Sequence[str], domains: Iterable[str], recent: Sequence[str] = ()) -> list[Entity]:
    """Devices of ``domains`` that every qualifier word picks out.

    A word picks the devices whose names, area or floor hold it. "other" drops the devices
    just named (``recent`` entity ids) when one of them is of these domains; when none is, it
    picks nothing out, so the caller asks which.
    """
    allowed = set(domains)
    pool = [e for e in home.entities if e.domain in allowed]
    for word in words:
        if word == "other":
            pool = [e for e in pool if e.id not in recent] if any(e.id in recent for e in pool) else pool
        else:
            pool = [e for e in pool if word in entity_words(home, e)]
    return pool


def which(entities: Sequence[Entity], kind: str) -> str:
    """The question that asks the user to pick one of ``entities`` (named when they are few)."""
    if len(entities) > _LISTED:
        return f"which {kind} do you mean?"
    names = [f"the {e.name}" for e in entities]
    return f"which {kind} do you mean: {', '.join(names[:-1])} or {names[-1]}?"


def unnamed(home: Home, said: str, domains: Iterable[str]) -> str:
    """Why ``said`` names no device: which of several it may mean, or that there is none.

    "other fan" in a home of two fans asks which; "left lamp" where no lamp is the left one
    asks which lamp; "hall light" in a home without a hall has no device.
    """
    *words, noun = said.lower().split() or [""]
    domain = domain_table().domain_of(noun)
    pool = qualified(home, words, {domain} if domain else domains)
    if not pool and any(w in POSITIONS for w in words):
        pool = qualified(home, [w for w in words if w not in POSITIONS], {domain} if domain else domains)
    if len(pool) > 1 and (domain or noun == "one"):
        return which(pool, noun if domain else "one")
    return f"there is no device called '{said}'"


def unknown_said(reason: str | None) -> tuple[str, str] | None:
    """("device" or "area", the words said) of a refusal for a name the home lacks, else None."""
    match = _UNKNOWN.fullmatch(reason or "")
    return (match.group(1), match.group(2)) if match else None


def renamings(home: Home, text: str, kind: str, said: str, most: int = 8) -> list[tuple[str, str]]:
    """(canonical name, ``text`` with ``said`` replaced by a spoken form of it), one per name of
    ``kind`` ("device": entities; "area": areas and floors) of the home, nearest in letters first
    and at most ``most`` of them (each costs a forced decode); empty when ``said`` is not in ``text`` as whole words."""
    pattern = re.compile(rf"(?<![\w']){re.escape(said)}(?![\w'])", re.IGNORECASE)
    if pattern.search(text) is None:
        return []
    if kind == "device":
        spoken = [(name, e.name) for e in home.entities for name in e.names]
    else:
        spoken = [(name, a.name) for a in home.areas for name in (a.name, *a.aliases)]
        spoken += [(name, f.name) for f in home.floors for name in (f.name, *f.aliases)]
    letters = compact(said)
    spoken.sort(key=lambda pair: slip_cost(letters, compact(pair[0])))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, canonical in spoken[:most]:
        candidate = pattern.sub(name.replace("\\", "\\\\"), text, count=1)
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            out.append((canonical, candidate))
    return out
