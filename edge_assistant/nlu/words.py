"""A language's word tables, as data: number words, timer words and domain words.

Each table is one YAML file in the catalog's language folder (``intents/en/numbers.yaml``,
``timer_words.yaml``, ``domain_words.yaml``), read once per language: text normalisation, slot
extraction, clock times and the speech grammar all read the same table, and a second language
is a second folder of data files. A wheel carries the folder inside the package, like the
catalog (``BUILTIN_CATALOG_DIR``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_assistant.errors import IntentSchemaError
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR
from edge_assistant.yamlfile import load_model

__all__ = [
    "DomainWord",
    "DomainWords",
    "Measure",
    "NumberWords",
    "TimerWords",
    "domain_table",
    "number_table",
    "timer_table",
    "words_dir",
]

M = TypeVar("M", bound=BaseModel)


class NumberWords(BaseModel):
    """A language's number words (``numbers.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    units: dict[str, int]
    tens: dict[str, int]
    scales: dict[str, int]
    articles: tuple[str, ...] = ()
    pronoun: str = ""
    pronoun_after: frozenset[str] = frozenset()
    conjunction: str = ""
    minus: str = ""
    fractions: dict[str, float] = Field(default_factory=dict)
    plural_fractions: frozenset[str] = frozenset()
    fractions_alone: frozenset[str] = frozenset()
    clock_zero: str = ""
    levels: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> NumberWords:
        missing = [n for n in range(20) if n not in self.units.values()]
        if missing:
            raise ValueError(f"'units' needs a word for each of 0..19; missing {missing}")
        unknown = sorted((self.plural_fractions | self.fractions_alone) - set(self.fractions))
        if unknown:
            raise ValueError(f"{unknown} are not in 'fractions'")
        tens = sorted(self.tens.values())
        if tens != list(range(20, 100, 10)):
            raise ValueError("'tens' needs one word for each of 20, 30 ... 90")
        return self

    def word(self, value: int) -> str:
        """The first word of the table for ``value`` (0..19 or a multiple of ten to 90)."""
        table = self.units if value < 20 else self.tens
        return next(w for w, v in table.items() if v == value)

    @property
    def words(self) -> frozenset[str]:
        """Every word that is part of a number (not the articles or the conjunction)."""
        return frozenset((*self.units, *self.tens, *self.scales))


class TimerWords(BaseModel):
    """Words of a plain timer request (``timer_words.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    timer_words: frozenset[str]
    timer_nouns: tuple[str, ...]


class DomainWord(BaseModel):
    """Words that name a domain (and a device class) of devices."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    domain: str
    device_class: str | None = None
    words: tuple[str, ...]
    unless_before: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        """A regular expression for the words (longest first), not followed by ``unless_before``."""
        words = _alternatives(self.words)
        if not self.unless_before:
            return f"(?:{words})"
        return rf"(?:{words})(?! (?:{'|'.join(map(re.escape, self.unless_before))})\b)"


class Measure(BaseModel):
    """What a sensor measures (a Home Assistant sensor device class) and the words said for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    device_class: str
    words: tuple[str, ...]


class DomainWords(BaseModel):
    """The domain table (``domain_words.yaml``), in order: the first entry said wins; and what
    sensors measure."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    domains: tuple[DomainWord, ...]
    measures: tuple[Measure, ...] = ()

    def domain_of(self, word: str) -> str | None:
        """The domain a single spoken word names ("lamps" -> light), or None."""
        low = word.lower()
        return next((d.domain for d in self.domains if low in d.words), None)

    def measures_said(self, text: str) -> list[str]:
        """The device class of each measure that lowercase ``text`` names as words, in the table's
        order ("how humid is it" -> ["humidity"])."""
        return [m.device_class for m in self.measures if _word_pattern(m.words).search(text)]


def _alternatives(words: tuple[str, ...]) -> str:
    """``words`` as a regular expression's alternatives, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``words``, as whole words."""
    return re.compile(rf"(?<![\w'])(?:{_alternatives(words)})(?![\w'])")


def words_dir(language: str) -> Path:
    """The folder of ``language``'s word tables."""
    return BUILTIN_CATALOG_DIR / language


def _table(language: str, name: str, model: type[M]) -> M:
    path = words_dir(language) / name
    if not path.is_file():
        raise IntentSchemaError(
            f"no word table {name} for language '{language}': add {path} (intents/en/{name} is the model)",
            path=str(path),
        )
    return load_model(path, model, IntentSchemaError)


@cache
def number_table(language: str = "en") -> NumberWords:
    """The number words of ``language``, read once."""
    return _table(language, "numbers.yaml", NumberWords)


@cache
def timer_table(language: str = "en") -> TimerWords:
    """The timer words of ``language``, read once."""
    return _table(language, "timer_words.yaml", TimerWords)


@cache
def domain_table(language: str = "en") -> DomainWords:
    """The domain words of ``language``, read once."""
    return _table(language, "domain_words.yaml", DomainWords)
