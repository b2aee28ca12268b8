"""The ``multi_commands`` suite of ``bench nlu``: several commands in one utterance.

A development set of our own, generated here and never from ``../shared/benchmarks``: the
catalog's examples (``intents/builtin.yaml``) said of every device and room of the example home
that fits them, on the example home plus a few devices (blinds in a second room, a lamp with "and"
in its name). Utterances join two or three of them with "and", "then", "and then", "and also",
"after that" and commas; some name two devices for one command ("turn off the porch light and the
kitchen light"); some hold "and" inside one command ("the salt and pepper lamp", "five and a half
minutes"); some add a request the catalog lacks ("and tell me a joke": that command must be
rejected while the other acts). Each part is said plainly (the template path) or with a tail the
templates do not hold ("... right away": the model path).

An utterance is right when it has as many commands as expected and each has the right intent,
the right targets and the expected values (a rejected one: no intent). The parts are also parsed
alone, so that a multi-command parse's latency compares with a single command's on the same path.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.paths import EXAMPLE_HOME
from edge_assistant.events import IntentResult
from edge_assistant.home import Entity, Home, load_home
from edge_assistant.nlu.catalog import Catalog, load_catalog
from edge_assistant.nlu.multi import TARGET_SLOTS
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.nlu.resolve import Unresolved, finalize_slots, resolve_targets

__all__ = ["Expected", "Utterance", "development_set", "multi_home", "run_multi_bench", "run_multi_suite"]

JOINERS = (" and ", " then ", " and then ", " and also ", ", ", ", then ", " and after that ", ", and ")
# Tails the templates do not hold: the part goes to the model.
MODEL_TAILS = (" right away", " if you can", " when you get a chance", " straight away", " real quick")
# Requests outside the catalog: the command must be rejected while the others act.
OUT_OF_SCOPE = ("tell me a joke", "order a pizza", "call my sister", "send a text to john", "book a table for two")
_VERBS = (("turn off", "HassTurnOff"), ("turn on", "HassTurnOn"), ("switch off", "HassTurnOff"))
_EXTRA = (
    Entity(name="Bedroom Blinds", id="cover.bedroom_blinds", area="bedroom", device_class="blind"),
    Entity(name="Salt and Pepper Lamp", id="light.salt_and_pepper", area="kitchen"),
)


@dataclass(frozen=True)
class Expected:
    """One command as it should come out: intent (None: rejected), targets, values."""

    text: str
    intent: str | None
    targets: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Utterance:
    """One utterance of the set, its commands, its kind and the path its parts take."""

    text: str
    commands: tuple[Expected, ...]
    kind: str
    path: str  # "template" or "model": how every part is said
    parts: tuple[str, ...] = ()  # the parts as single commands, for the single-command latency


def multi_home() -> Home:
    """The example home plus blinds in a second room and a lamp whose name holds "and"."""
    home = load_home(EXAMPLE_HOME)
    return home.model_copy(update={"entities": (*home.entities, *_EXTRA)})


def _expected(catalog: Catalog, home: Home, intent: str, text: str, slots: dict[str, Any]) -> Expected | None:
    spec = catalog.intents[intent]
    try:
        checked = finalize_slots(spec, home, slots)
        targets = resolve_targets(spec, home, checked)
    except Unresolved:
        return None
    values = {k: v for k, v in checked.items() if k not in TARGET_SLOTS}
    return Expected(text, intent, tuple(targets), values)


def _fitting(home: Home, entity: Entity) -> list[Entity]:
    return [e for e in home.entities if e.domain == entity.domain and e.device_class == entity.device_class]


def single_commands(catalog: Catalog, home: Home) -> list[Expected]:
    """Every catalog example said of every device (or room) of the home that fits it."""
    out: dict[str, Expected] = {}
    names = {n.lower() for e in home.entities for n in e.names}
    for intent, spec in catalog.intents.items():
        for example in spec.examples:
            text, slots = example.text, dict(example.slots)
            variants = [(text, slots)]
            named = home.entities_named(str(slots.get("name", "")))
            if named and named[0].name.lower() in text:
                old = named[0].name.lower()
                fits = _fitting(home, named[0])
                variants = [(text.replace(old, e.name.lower()), {**slots, "name": e.name}) for e in fits]
            elif "area" in slots and str(slots["area"]).lower() in text:
                old = str(slots["area"]).lower()
                candidates = [(text.replace(old, a.name.lower()), {**slots, "area": a.name}) for a in home.areas]
                # "make the kitchen lights blue" names the entity Kitchen Light (an alias): not a room.
                variants = [(t, v) for t, v in candidates if not any(f" {n} " in f" {t} " for n in names)]
            for said, said_slots in variants:
                expected = _expected(catalog, home, intent, said, said_slots)
                if expected is not None and (expected.targets or not spec.has_targets):
                    out.setdefault(said, expected)
    return list(out.values())


def _said(command: Expected, path: str, rng: random.Random) -> Expected:
    if path == "template":
        return command
    return Expected(command.text + rng.choice(MODEL_TAILS), command.intent, command.targets, command.values)


def _joined(parts: Sequence[Expected], rng: random.Random) -> str:
    text = parts[0].text
    for part in parts[1:]:
        text += rng.choice(JOINERS) + part.text
    return text


def _several(singles: list[Expected], rng: random.Random, n: int, size: int) -> list[Utterance]:
    out = []
    for i in range(n):
        path = ("template", "model")[i % 2]
        picked = [_said(c, path, rng) for c in rng.sample(singles, size)]
        kind = "pair" if size == 2 else "triple"
        out.append(Utterance(_joined(picked, rng), tuple(picked), kind, path, tuple(p.text for p in picked)))
    return out


def _names(catalog: Catalog, home: Home, rng: random.Random, n: int) -> list[Utterance]:
    """ "turn off the porch light and the kitchen light": one command, both targets."""
    out = []
    lights = [e for e in home.entities if e.domain == "light"]
    blinds = [e for e in home.entities if e.domain == "cover" and e.device_class == "blind"]
    for i in range(n):
        verb, intent = rng.choice(_VERBS)
        if i % 4 == 3 and len(blinds) > 1:  # "open the study and the bedroom blinds"
            a, b = rng.sample(blinds, 2)
            rooms = [str(getattr(home.area_of(e), "name", "")).lower() for e in (a, b)]
            text = f"open the {rooms[0]} and the {rooms[1]} blinds"
            command = Expected(text, "HassTurnOn", (a.id, b.id))
        else:
            a, b = rng.sample(lights, 2)
            tail = rng.choice(MODEL_TAILS) if i % 3 == 2 else ""
            text = f"{verb} the {a.name.lower()} and the {b.name.lower()}{tail}"
            command = Expected(text, intent, (a.id, b.id))
        out.append(Utterance(text, (command,), "one_intent_two_names", "model" if "right" in text else "template"))
    return out


def _held_together(catalog: Catalog, home: Home) -> list[Utterance]:
    """ "and" inside one command: a name and an amount."""
    lamp = "Salt and Pepper Lamp"
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("turn on the salt and pepper lamp", "HassTurnOn", {"name": lamp}),
        ("turn off the salt and pepper lamp", "HassTurnOff", {"name": lamp}),
        ("set the salt and pepper lamp to 30 percent", "HassLightSet", {"name": lamp, "brightness": 30}),
        ("make the salt and pepper lamp red", "HassLightSet", {"name": lamp, "color": "red"}),
        ("set a timer for 5 and a half minutes", "HassStartTimer", {"minutes": 5, "seconds": 30}),
        ("set a timer for 1 hour and 10 minutes", "HassStartTimer", {"hours": 1, "minutes": 10}),
    ]
    out = []
    for text, intent, slots in rows:
        expected = _expected(catalog, home, intent, text, slots)
        assert expected is not None, text  # the home above has these devices
        out.append(Utterance(text, (expected,), "not_split", "template"))
    return out


def _partial(singles: list[Expected], rng: random.Random, n: int) -> list[Utterance]:
    out = []
    for i in range(n):
        command = rng.choice(singles)
        other = Expected(OUT_OF_SCOPE[i % len(OUT_OF_SCOPE)], None)
        text = command.text + rng.choice(JOINERS[:4]) + other.text
        out.append(Utterance(text, (command, other), "partial", "template", (command.text, other.text)))
    return out


def _refer_back(home: Home, rng: random.Random, n: int) -> list[Utterance]:
    """ "turn on the kettle and then turn it off"."""
    devices = [e for e in home.entities if e.domain in ("light", "switch", "fan")]
    out = []
    for _ in range(n):
        device = rng.choice(devices)
        first = Expected(f"turn on the {device.name.lower()}", "HassTurnOn", (device.id,))
        second = Expected("turn it off", "HassTurnOff", (device.id,))
        text = first.text + rng.choice((" and then ", " and after that ", ", then ")) + second.text
        out.append(Utterance(text, (first, second), "refers_back", "template", (first.text,)))
    return out


def development_set(catalog: Catalog, home: Home, seed: int = 0, size: int = 240) -> list[Utterance]:
    """The suite's utterances: pairs, triples, two names, "and" within a command, partial, "it"."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible set, not security
    singles = single_commands(catalog, home)
    pairs = _several(singles, rng, size // 2, 2)
    triples = _several(singles, rng, size // 8, 3)
    return [
        *pairs,
        *triples,
        *_names(catalog, home, rng, size // 8),
        *_held_together(catalog, home),
        *_partial(singles, rng, size // 16),
        *_refer_back(home, rng, size // 24),
    ]


def _right(expected: Expected, got: IntentResult) -> bool:
    if expected.intent is None:
        return got.intent is None
    same_values = all(_close(v, got.slots.get(k)) for k, v in expected.values.items())
    return got.intent == expected.intent and set(got.targets) == set(expected.targets) and same_values


def _close(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return abs(float(expected) - float(actual)) < 1e-6
    return str(expected).lower() == str(actual).lower()


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _path(commands: Sequence[IntentResult]) -> str:
    """The path the commands took: "template", "model", or "mixed"."""
    sources = {c.source for c in commands}
    return sources.pop() if len(sources) == 1 else "mixed"


@dataclass
class _Timings:
    """Parse latencies: several commands by (path, number of commands); single commands by path."""

    several: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    single: dict[str, list[float]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """p50 of each and the ratio of several commands to one, on the same path."""
        out: dict[str, Any] = {}
        for path, values in sorted(self.single.items()):
            out[f"single_{path}_p50_ms"], out[f"single_{path}_n"] = _p50(values), len(values)
        for (path, n), values in sorted(self.several.items()):
            name = {2: "pair", 3: "triple"}.get(n, f"{n}_commands")
            multi, single = _p50(values), _p50(self.single.get(path, []))
            out[f"{name}_{path}_p50_ms"], out[f"{name}_{path}_n"] = multi, len(values)
            if multi and single:
                out[f"{name}_{path}_over_single"] = round(multi / single, 2)
        return out


def _score(utterance: Utterance, got: IntentResult) -> bool:
    commands = got.commands or [got]
    return len(commands) == len(utterance.commands) and all(
        _right(e, c) for e, c in zip(utterance.commands, commands, strict=False)
    )


def run_multi_suite(
    parse: Callable[[str], IntentResult], utterances: Sequence[Utterance], out: Any = sys.stdout
) -> dict[str, Any]:
    """Score ``parse`` on the set; p50 latency of several commands and of one, per path.

    The parts of each pair and triple are parsed alone right after it, so that a load on the
    machine weighs on both alike.
    """
    by_kind: dict[str, list[int]] = {}
    timings = _Timings()
    misses: list[dict[str, Any]] = []
    for utterance in utterances:
        got = parse(utterance.text)
        right = _score(utterance, got)
        counts = by_kind.setdefault(utterance.kind, [0, 0])
        counts[0], counts[1] = counts[0] + 1, counts[1] + right
        if not right:
            misses.append(
                {"text": utterance.text, "got": [(c.intent, c.targets, c.reason) for c in got.commands or [got]]}
            )
        if utterance.kind in ("pair", "triple") and len(got.commands) == len(utterance.parts):
            timings.several.setdefault((_path(got.commands), len(got.commands)), []).append(got.latency_ms)
            for part in utterance.parts:
                alone = parse(part)
                timings.single.setdefault(alone.source, []).append(alone.latency_ms)
    n, ok = sum(c[0] for c in by_kind.values()), sum(c[1] for c in by_kind.values())
    row: dict[str, Any] = {
        "n": n,
        "every_command_right": round(ok / max(1, n), 4),
        **{f"right_{kind}": f"{c[1]}/{c[0]}" for kind, c in sorted(by_kind.items())},
        **timings.row(),
    }
    print(f"multi_commands: {json.dumps(row)}", file=out, flush=True)
    return {"row": row, "misses": misses}


def run_multi_bench(model: Any, tuned_prompt: bool, out: Any = sys.stdout, size: int = 240) -> dict[str, Any]:
    """The suite on the built-in catalog and ``multi_home``: with ``model``, and templates alone."""
    catalog, home = load_catalog(), multi_home()
    utterances = development_set(catalog, home, size=size)
    rows: dict[str, Any] = {}
    misses: dict[str, Any] = {}
    for name, chooser in (("edge-assistant", model), ("edge-assistant (templates only)", None)):
        if name != "edge-assistant" and model is None:
            continue
        parser = Parser(catalog, home, chooser, ParserSettings(tuned_prompt=tuned_prompt and chooser is not None))
        parser.parse("turn off the porch light and lock the front door")  # hassil's first call is slow
        print(f"== {name}", file=out, flush=True)
        result = run_multi_suite(parser.parse, utterances, out)
        rows[name], misses[name] = result["row"], result["misses"]
    return {"rows": rows, "misses": misses, "n": len(utterances)}
