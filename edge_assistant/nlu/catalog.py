"""The intent catalog: schemas, descriptions, safety flags, sentences and examples, as data.

A catalog is one or more YAML files (a directory is read in name order). Built-in intents keep
Home Assistant's intent and slot names and take their sentence templates from the
``home-assistant-intents`` package (``source: home-assistant``); the catalog adds what Home
Assistant lacks (slot schemas, descriptions for the model, safety, extra sentences). Custom
intents carry their own hassil templates. This one source drives the template matcher, the
model's output grammar, the prompt's examples and the golden tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_assistant.errors import IntentSchemaError
from edge_assistant.yamlfile import load_model

__all__ = [
    "BUILTIN_CATALOG_DIR",
    "Catalog",
    "Example",
    "IntentSpec",
    "SentenceBlock",
    "SlotSpec",
    "load_catalog",
]

_PACKAGED = Path(__file__).resolve().parent.parent / "_intents"
# A wheel carries the catalog inside the package; a source checkout has it at the top level.
BUILTIN_CATALOG_DIR = _PACKAGED if _PACKAGED.is_dir() else _PACKAGED.parent.parent / "intents"

SlotType = Literal["entity", "area", "floor", "domain", "device_class", "int", "number", "step", "enum", "text"]


class SlotSpec(BaseModel):
    """One slot of an intent: its type and the values it may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: SlotType
    description: str = ""
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    default: int | float | str | None = None
    # Other words people say for a value ("lavender" -> purple, "warm" -> 2700 kelvin).
    aliases: dict[str, str | int | float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> SlotSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum slot needs 'values'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is greater than 'max'")
        if self.type == "enum":
            bad = sorted(k for k, v in self.aliases.items() if v not in self.values)
            if bad:
                raise ValueError(f"aliases {bad} map to values that are not in 'values'")
        return self


class SentenceBlock(BaseModel):
    """Templates (hassil syntax) that mean the intent, with slots they fix."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    templates: tuple[str, ...]
    slots: dict[str, Any] = Field(default_factory=dict)
    requires_context: dict[str, Any] = Field(default_factory=dict)


class Example(BaseModel):
    """A sentence with its expected slots: a prompt example and a golden test."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    slots: dict[str, Any] = Field(default_factory=dict)


class IntentSpec(BaseModel):
    """One intent: schema, description for the model, safety flag, sentences, examples."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str
    source: Literal["home-assistant", "custom"] = "custom"
    slots: dict[str, SlotSpec] = Field(default_factory=dict)
    label: str = ""
    domains: tuple[str, ...] = ()
    require_one_of: tuple[str, ...] = ()
    # The question asked when none of ``require_one_of`` was said ("What brightness or colour?").
    ask: str = ""
    safety: Literal["allow", "confirm", "deny"] = "allow"
    # This intent is what ``specialises`` means for devices of ``domains`` ("turn on the vacuum"
    # starts it): a generic result whose targets all lie in ``domains`` becomes this intent.
    specialises: str | None = None
    # The devices move between areas (a robot vacuum): an area says where to act, not where the
    # device lives, so a device elsewhere in the home still serves it.
    roaming: bool = False
    # What this intent reads from sensors (sensor device classes, ``domain_words.yaml``): a sensor
    # that measures something else never answers it (a temperature question is no humidity one).
    measures: tuple[str, ...] = ()
    # The intent that reads a sensor named for this one that measures something else ("what is the
    # humidity" read as a temperature question is that sensor's state).
    other_measures: str | None = None
    sentences: tuple[SentenceBlock, ...] = ()
    examples: tuple[Example, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> IntentSpec:
        if self.source == "custom" and not self.sentences:
            raise ValueError("a custom intent needs at least one block of 'sentences'")
        missing = set(self.require_one_of) - set(self.slots)
        if missing:
            raise ValueError(f"require_one_of names undeclared slots {sorted(missing)}")
        if self.other_measures and not self.measures:
            raise ValueError("'other_measures' needs 'measures'")
        if self.specialises and not self.domains:
            raise ValueError("an intent that 'specialises' another needs 'domains'")
        for example in self.examples:
            unknown = set(example.slots) - set(self.slots)
            if unknown:
                raise ValueError(f"example '{example.text}' uses undeclared slots {sorted(unknown)}")
        return self

    @property
    def has_targets(self) -> bool:
        """True when the intent acts on entities of the home."""
        return any(s.type == "entity" for s in self.slots.values())


class CatalogFile(BaseModel):
    """The shape of one catalog file."""

    model_config = ConfigDict(extra="forbid")
    language: str = "en"
    intents: dict[str, IntentSpec] = Field(default_factory=dict)
    lists: dict[str, Any] = Field(default_factory=dict)
    expansion_rules: dict[str, str] = Field(default_factory=dict)


class Catalog(BaseModel):
    """All intents of a runtime, merged from one or more catalog files."""

    model_config = ConfigDict(frozen=True)
    language: str = "en"
    intents: dict[str, IntentSpec]
    lists: dict[str, Any] = Field(default_factory=dict)
    expansion_rules: dict[str, str] = Field(default_factory=dict)

    def intent(self, name: str) -> IntentSpec:
        """The spec of ``name``; KeyError when the catalog lacks it."""
        return self.intents[name]


def _catalog_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            files.append(path)
        else:
            raise IntentSchemaError("catalog file or directory not found", path=str(path))
    return files


def _default_label(name: str) -> str:
    words = re.findall(r"[A-Z][a-z]*", name.removeprefix("Hass"))
    return " ".join(w.lower() for w in words) or name


def _merge(base: IntentSpec, extra: IntentSpec) -> IntentSpec:
    return base.model_copy(
        update={
            "slots": {**base.slots, **extra.slots},
            "sentences": base.sentences + extra.sentences,
            "examples": base.examples + extra.examples,
        }
    )


def load_catalog(paths: Iterable[str | Path] | None = None) -> Catalog:
    """Load and merge catalog files; the built-in catalog when ``paths`` is None.

    A later file that names an intent already defined adds slots, sentences and examples to it.
    """
    files = _catalog_files([BUILTIN_CATALOG_DIR] if paths is None else paths)
    if not files:
        raise IntentSchemaError("no catalog files found", path=", ".join(map(str, paths or [])))
    intents: dict[str, IntentSpec] = {}
    lists: dict[str, Any] = {}
    rules: dict[str, str] = {}
    language = "en"
    for path in files:
        part = load_model(path, CatalogFile, IntentSchemaError)
        language = part.language
        for name, spec in part.intents.items():
            if not spec.label:
                spec = spec.model_copy(update={"label": _default_label(name)})
            intents[name] = _merge(intents[name], spec) if name in intents else spec
        lists.update(part.lists)
        rules.update(part.expansion_rules)
    for name, spec in intents.items():
        if spec.specialises is not None and spec.specialises not in intents:
            raise IntentSchemaError(
                f"intent {name} specialises '{spec.specialises}', which no catalog file defines",
                path=", ".join(map(str, files)),
            )
        if spec.other_measures is not None and spec.other_measures not in intents:
            raise IntentSchemaError(
                f"intent {name} reads other measures with '{spec.other_measures}', which no catalog file defines",
                path=", ".join(map(str, files)),
            )
    return Catalog(language=language, intents=intents, lists=lists, expansion_rules=rules)
