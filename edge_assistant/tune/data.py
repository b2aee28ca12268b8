"""Synthetic training data for intent choice, from one source of truth: catalog + home.

Sentences come from (1) random expansions of the catalog's hassil templates (Home Assistant's
sentence data and the catalog's own) filled with names of the home and of generated homes,
(2) hand-written natural phrasings (``phrases.py``: indirect, terse, relative), (3) out-of-scope
sentences labelled ``none``, and (4) invented custom intents shown in the prompt. Every sentence
may get the variations people and recognisers produce: politeness, fillers, dropped words,
recognition slips. Nothing here reads ``../shared/benchmarks``. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from hassil import Intents
from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sequence, TextChunk
from hassil.intents import RangeSlotList, SlotList, TextSlotList

from edge_assistant.errors import TuneError
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.prompt import MAX_PROMPT_EXAMPLES, NONE_LABEL, CustomLine, answer, continuation, tuned_prefix
from edge_assistant.nlu.templates import build_intents_dict, home_slot_lists
from edge_assistant.tune.homes import generate_home
from edge_assistant.tune.phrases import CUSTOM_INTENTS, FILLS, INTENT_PATTERNS, NEGATIVE_PATTERNS
from edge_assistant.tune.vary import vary

__all__ = ["DataSettings", "Sample", "generate", "split"]


@dataclass(frozen=True)
class Sample:
    """One training example: the command text, the label to answer, custom intents in the prompt."""

    text: str
    label: str
    extra: tuple[CustomLine, ...] = ()

    @property
    def prompt(self) -> tuple[str, str, str]:
        """(prefix, continuation, answer) exactly as the runtime builds and decodes them."""
        return tuned_prefix(self.extra), continuation(self.text), answer(self.label)


@dataclass(frozen=True)
class DataSettings:
    """How much data and of which kinds."""

    samples: int = 6000
    val_fraction: float = 0.08
    home_share: float = 0.5  # sentences named from the user's home; the rest from generated homes
    negative_share: float = 0.2
    custom_share: float = 0.15
    pattern_share: float = 0.45  # hand-written phrasings vs. template expansions
    homes: int = 40


_WEIGHTS = {"HassTurnOn": 4.0, "HassTurnOff": 4.0, "HassLightSet": 4.0, "HassVacuumStart": 1.5, "HassGetState": 1.5}


def _names_for(names: SlotList | None, required: dict[str, Any]) -> SlotList | None:
    """The ``name`` list cut to entities whose domain/device class the block requires; None if none."""
    if not isinstance(names, TextSlotList):
        return names
    wanted = {k: (v if isinstance(v, list) else [v]) for k, v in required.items() if k in ("domain", "device_class")}
    values = [v for v in names.values if all((v.context or {}).get(k) in allowed for k, allowed in wanted.items())]
    return TextSlotList(name="name", values=values) if values else None


class _Expander:
    """Random expansion of hassil templates (one choice per alternative, not every combination)."""

    def __init__(self, intents: Intents, rng: random.Random) -> None:
        self.intents = intents
        self.rng = rng

    def sentence(self, name: str, lists: dict[str, SlotList]) -> str:
        """A random sentence of intent ``name``; device names respect the block's required domain."""
        for _ in range(20):
            data = self.rng.choice(self.intents.intents[name].data)
            names = _names_for(lists.get("name"), data.requires_context or {})
            if names is None:
                continue  # this home has no device the block allows
            template = self.rng.choice(data.sentences)
            rules = {**self.intents.expansion_rules, **data.expansion_rules}
            merged = {**self.intents.slot_lists, **data.slot_lists, **lists, "name": names}
            return " ".join(self._expand(template.expression, merged, rules, 0).split())
        return ""

    def _expand(self, expr: Expression, lists: dict[str, SlotList], rules: dict[str, Any], depth: int) -> str:
        if depth > 30:
            return ""
        if isinstance(expr, TextChunk):
            return expr.original_text or ""
        if isinstance(expr, Alternative):
            if expr.is_optional and self.rng.random() < 0.5:
                return ""
            return self._expand(self.rng.choice(expr.items), lists, rules, depth + 1)
        if isinstance(expr, Permutation):
            items = list(expr.items)
            self.rng.shuffle(items)
            return " ".join(self._expand(i, lists, rules, depth + 1) for i in items)
        if isinstance(expr, Sequence):
            return "".join(self._expand(i, lists, rules, depth + 1) for i in expr.items)
        if isinstance(expr, RuleReference):
            rule = rules.get(expr.rule_name)
            return self._expand(rule.expression, lists, rules, depth + 1) if rule is not None else ""
        if isinstance(expr, ListReference):
            return self._list_value(expr, lists, rules, depth)
        return ""

    def _list_value(self, ref: ListReference, lists: dict[str, SlotList], rules: dict[str, Any], depth: int) -> str:
        slot_list = lists.get(ref.list_name)
        if isinstance(slot_list, TextSlotList) and slot_list.values:
            value = self.rng.choice(slot_list.values)
            return self._expand(value.text_in, lists, rules, depth + 1)
        if isinstance(slot_list, RangeSlotList):
            return str(self.rng.randrange(slot_list.start, slot_list.stop + 1, slot_list.step))
        if ref.is_inline_range:
            low, high, step = ref.get_inline_range() or (0, 100, 1)
            return str(self.rng.randrange(low, high + 1, step))
        return self.rng.choice(FILLS["TN"] + FILLS["X"])


def _home_fills(home: Home, rng: random.Random) -> dict[str, list[str]]:
    """Spoken names by placeholder kind for ``phrases.INTENT_PATTERNS``."""
    by_domain: dict[str, list[str]] = {}
    for entity in home.entities:
        by_domain.setdefault(entity.domain, []).extend(n.lower() for n in entity.names)
    areas = [n.lower() for a in home.areas for n in (a.name, *a.aliases)] or ["house"]
    lights = by_domain.get("light", [])
    light_phrases = ["the lights", "the light", "lights", "the lamp"] + [f"the {n}" for n in lights] + lights
    light_phrases += [f"the {a} lights" for a in areas] + [f"the lights in the {a}" for a in areas]
    switches = by_domain.get("switch", []) + by_domain.get("fan", []) + lights
    return {
        "L": light_phrases,
        "A": areas,
        "S": [f"the {n}" for n in switches] or ["the plug"],
        "D": [f"the {n}" for e in by_domain.values() for n in e] or ["the lights"],
        "C": [f"the {n}" for n in by_domain.get("cover", [])] or ["the blinds", "the curtains"],
        "K": [f"the {n}" for n in by_domain.get("lock", [])] or ["the front door"],
        "F": [f"the {n}" for n in by_domain.get("fan", [])] or ["the fan"],
        "M": [f"the {n}" for n in by_domain.get("media_player", [])] or ["the tv", "the speaker"],
        "V": [f"the {n}" for n in by_domain.get("vacuum", [])] or ["the vacuum", "the robot"],
        "T": [f"the {n}" for n in by_domain.get("climate", [])] or ["the thermostat"],
        "N": [str(rng.choice((10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100))), "fifty", "half", "twenty"],
        **{key: list(values) for key, values in FILLS.items()},
    }


def _fill(pattern: str, fills: dict[str, list[str]], rng: random.Random) -> str:
    out = pattern
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + rng.choice(fills[out[start + 1 : end]]) + out[end + 1 :]
    return out


class _Generator:
    """Draws samples of each kind for one catalog, one home and generated homes."""

    def __init__(self, catalog: Catalog, home: Home, settings: DataSettings, seed: int) -> None:
        self.catalog = catalog
        self.settings = settings
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
        self.expander = _Expander(Intents.from_dict(build_intents_dict(catalog)), self.rng)
        homes = [home] + [generate_home(self.rng) for _ in range(settings.homes)]
        self.lists = [home_slot_lists(h) for h in homes]
        self.fills = [_home_fills(h, self.rng) for h in homes]
        self.names = list(catalog.intents)
        # The everyday commands (on/off, light changes) get more data than timers and media.
        self.weights = [_WEIGHTS.get(n, 1.0) for n in self.names]
        # The phrasings of an intent this catalog lacks are out of scope ("what time is it" with no
        # HassGetCurrentTime), so a catalog without them still learns to reject them.
        self.negatives = NEGATIVE_PATTERNS + tuple(
            text for name, texts in INTENT_PATTERNS.items() if name not in catalog.intents for text in texts
        )
        self.custom: list[CustomLine] = [
            (s.label, s.description, tuple(ex.text for ex in s.examples[:MAX_PROMPT_EXAMPLES]))
            for s in catalog.intents.values()
            if s.source == "custom"
        ]

    def _home_index(self) -> int:
        return 0 if self.rng.random() < self.settings.home_share else self.rng.randrange(1, len(self.lists))

    def intent_sample(self) -> Sample:
        name = self.rng.choices(self.names, self.weights)[0]
        index = self._home_index()
        patterns = INTENT_PATTERNS.get(name, ())
        if patterns and self.rng.random() < self.settings.pattern_share:
            text = _fill(self.rng.choice(patterns), self.fills[index], self.rng)
        else:
            text = self.expander.sentence(name, self.lists[index])
        return Sample(text, self.catalog.intents[name].label, self._extra())

    def negative_sample(self) -> Sample:
        fills = self.fills[self._home_index()]
        extra = self._extra()
        if self.rng.random() < 0.3:
            # An invented custom intent's phrasing that the prompt does not list: out of scope here.
            listed = {line[0] for line in extra}
            unlisted = [texts for label, _d, texts in CUSTOM_INTENTS if label not in listed]
            return Sample(self.rng.choice(self.rng.choice(unlisted)), NONE_LABEL, extra)
        return Sample(_fill(self.rng.choice(self.negatives), fills, self.rng), NONE_LABEL, extra)

    def _shown(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        """The examples a prompt shows for an invented intent: none (description only) up to three."""
        count = self.rng.choices((0, 1, 2, 3), (0.3, 0.2, 0.3, 0.2))[0]
        return tuple(self.rng.sample(texts, min(count, len(texts) - 1)))

    def custom_sample(self) -> Sample:
        picked = self.rng.sample(CUSTOM_INTENTS, self.rng.randint(1, 3))
        lines = [(label, desc, self._shown(texts)) for label, desc, texts in picked]
        label, _desc, shown = lines[0]
        unseen = [t for t in picked[0][2] if t not in shown]
        # Mostly a phrasing the prompt does not show, so the model learns the intent, not the examples.
        text = self.rng.choice(unseen if unseen and self.rng.random() < 0.85 else picked[0][2])
        extra = lines + self.custom
        self.rng.shuffle(extra)
        return Sample(text, label, tuple(extra))

    def _extra(self) -> tuple[CustomLine, ...]:
        """The catalog's own custom intents, and sometimes unrelated invented ones, as the prompt lists them."""
        extra = list(self.custom)
        if self.rng.random() < 0.3:
            picked = self.rng.sample(CUSTOM_INTENTS, self.rng.randint(1, 2))
            extra += [(label, desc, self._shown(texts)) for label, desc, texts in picked]
            self.rng.shuffle(extra)
        return tuple(extra)

    def draw(self) -> Sample:
        roll = self.rng.random()
        if roll < self.settings.negative_share:
            sample = self.negative_sample()
        elif roll < self.settings.negative_share + self.settings.custom_share:
            sample = self.custom_sample()
        else:
            sample = self.intent_sample()
        text = normalize_text(vary(sample.text, self.rng))
        return Sample(text, sample.label, sample.extra) if text else self.draw()


def check_inputs(catalog: Catalog, home: Home) -> None:
    """Clear errors before any training: no entities, an intent that yields no sentences."""
    if not home.entities:
        raise TuneError("the home has no entities: describe at least one device (see deploy/home.example.yaml)")
    intents = Intents.from_dict(build_intents_dict(catalog))
    for name in catalog.intents:
        if name not in intents.intents or not any(d.sentences for d in intents.intents[name].data):
            raise TuneError(f"catalog intent '{name}' has no sentences to train on: add 'sentences' templates")


def generate(catalog: Catalog, home: Home, settings: DataSettings, seed: int) -> list[Sample]:
    """``settings.samples`` distinct samples (text + label + prompt), deterministic for ``seed``."""
    check_inputs(catalog, home)
    gen = _Generator(catalog, home, settings, seed)
    seen: set[tuple[str, str]] = set()
    out: list[Sample] = []
    for _ in range(settings.samples * 20):
        sample = gen.draw()
        key = (sample.text, sample.label)
        if key not in seen:
            seen.add(key)
            out.append(sample)
            if len(out) == settings.samples:
                break
    return out


def split(samples: list[Sample], val_fraction: float) -> tuple[list[Sample], list[Sample]]:
    """Train/validation split by a hash of the text, so a sentence never lands in both."""
    train: list[Sample] = []
    val: list[Sample] = []
    for sample in samples:
        digest = hashlib.sha256(sample.text.encode("utf-8")).digest()
        (val if digest[0] < val_fraction * 256 else train).append(sample)
    return train, val
