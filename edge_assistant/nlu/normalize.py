"""Text and slot-value normalisation: number words, percent, degrees, durations.

Number words come from the language's one table (``intents/en/numbers.yaml``, ``nlu.words``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from edge_assistant.nlu.words import number_table

__all__ = [
    "Amount",
    "amount_in",
    "compact",
    "normalize_text",
    "numbers_in",
    "to_int",
    "unsure_numbers",
    "words_to_digits",
]


@cache
def _tables() -> tuple[dict[str, int], dict[str, int], dict[str, int], frozenset[str], str, frozenset[str]]:
    """Units (with the articles as one), tens, scales, articles, the conjunction and every number word."""
    table = number_table()
    units = {**table.units, **dict.fromkeys(table.articles, 1)}
    return units, table.tens, table.scales, frozenset(table.articles), table.conjunction, table.words


def words_to_digits(text: str) -> str:
    """Replace runs of English number words by digits ("twenty five" -> "25").

    A lone "a"/"an" stays a word unless a scale follows ("a hundred" -> "100"), and so does "one"
    said for a thing ("the kitchen one": ``_thing``).
    """
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        value, used = _read_number(tokens, i) if not _thing(tokens, i) else (0, 0)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def _thing(tokens: list[str], i: int) -> bool:
    """Whether ``tokens[i]`` is "one" said for a thing: "which one", "the other one", "the kitchen
    one" (the bedroom's light at 1% was "the bedroom one"); never before more of a number ("the
    one hundred", "that one and a half")."""
    table = number_table()
    if not table.pronoun or tokens[i] != table.pronoun:
        return False
    after = tokens[i + 1 : i + 3]
    more = table.words | set(table.fractions)  # "one hundred", "one half"
    if after and after[0] in more:
        return False
    if after[:1] == [table.conjunction] and len(after) > 1 and (after[1] in more or after[1] in table.articles):
        return False  # "one and a half"
    before = tokens[max(i - 2, 0) : i]
    if before[-1:] and before[-1] in table.pronoun_after:
        return True
    return (
        len(before) == 2
        and before[0] in table.pronoun_after
        and before[1].isalpha()
        and before[1] not in table.words
        and before[1] not in table.articles
    )


def _read_number(tokens: list[str], start: int) -> tuple[int, int]:
    units, tens, scales, articles, conjunction, every = _tables()
    total, current, used = 0, 0, 0
    i = start
    while i < len(tokens):
        word = tokens[i].replace("-", " ").split()
        if len(word) == 2 and word[0] in tens and word[1] in units:  # "twenty-five"
            current += tens[word[0]] + units[word[1]]
        elif tokens[i] in articles:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt not in scales:
                break
            current += 1
        elif tokens[i] in units:
            current += units[tokens[i]]
        elif tokens[i] in tens:
            current += tens[tokens[i]]
        elif tokens[i] in scales and (used or current):
            current = max(current, 1) * scales[tokens[i]]
            if scales[tokens[i]] >= 1000:
                total, current = total + current, 0
        elif tokens[i] == conjunction and used and i + 1 < len(tokens) and tokens[i + 1] in every:
            pass
        else:
            break
        used += 1
        i += 1
    return total + current, used


def compact(text: str) -> str:
    """``text`` as its letters and digits only, lower case: "Eco-Bee" and "eco bee" are "ecobee"."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def normalize_text(text: str) -> str:
    """Lowercase, digits for number words, ``%`` as " percent", punctuation removed."""
    low = text.lower().replace("%", " percent ").replace("°", " degrees ")
    low = re.sub(r"[^\w\s'.-]", " ", low)
    low = re.sub(r"(?<!\d)[.](?!\d)", " ", low)
    return words_to_digits(" ".join(low.split()))


def numbers_in(text: str) -> list[float]:
    """Every number in already-normalised text, in order."""
    return [float(m) for m in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", text)]


def to_int(value: Any) -> int | None:
    """An int from an int, a float or a numeric string; None otherwise."""
    try:
        return round(float(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Amount:
    """An amount said with a fraction: ``value`` (2.5, 0.75) and whether it is a part of a whole."""

    value: float
    part: bool
    start: int
    end: int


@cache
def _fraction_pattern() -> re.Pattern[str]:
    table = number_table()
    one = "|".join(map(re.escape, table.articles))
    fraction = "|".join(map(re.escape, sorted(table.fractions, key=len, reverse=True)))
    conj = re.escape(table.conjunction)
    return re.compile(rf"\b(?:(?P<whole>\d+) {conj} )?(?:(?P<count>\d+|{one}) )?(?P<fraction>{fraction})\b")


def amount_in(text: str) -> Amount | None:
    """The first amount with a fraction in normalised text.

    "2 and a half" is 2.5; "3 quarters", "a quarter" and "half" are parts of a whole (0.75,
    0.25, 0.5). A singular takes "a" or 1, a plural a count of 2 or more, and only the table's
    ``fractions_alone`` stand without a count: "the twenty third" and "june third" are dates.
    Digits come from ``normalize_text``; the fraction words from the number table.
    """
    table = number_table()
    for match in _fraction_pattern().finditer(text):
        count, fraction = match.group("count"), match.group("fraction")
        plural = fraction in table.plural_fractions
        if count is None:
            if fraction not in table.fractions_alone:
                continue
        elif plural != (count.isdigit() and int(count) > 1):
            continue
        share = table.fractions[fraction] * (float(count) if plural and count else 1.0)
        whole = match.group("whole")
        value = float(whole) + share if whole else share
        return Amount(round(value, 4), whole is None and share <= 1.0, match.start(), match.end())
    return None


def unsure_numbers(text: str, hypotheses: Sequence[str]) -> frozenset[float]:
    """The numbers of ``text`` when most of the speech engine's ``hypotheses`` (its readings of the
    same audio, ``text`` among them) heard other numbers: "set the 15.5 degrees" beside four
    readings of "25 degrees" is a value the ear is unsure of. One reading of "20" beside three of
    "21" is not. Readings that hold no number say nothing of it, nor do readings that hold the
    text and more (a decoder that said the sentence twice: "... to 90 degrees Set the Living Room
    Thermostat to 19 degrees" for "... to 19 degrees")."""
    said = sorted(numbers_in(normalize_text(text)))
    if not said:
        return frozenset()
    own = normalize_text(text)
    readings = [n for h in hypotheses if not _holds_more(n := normalize_text(h), own)]
    heard = [found for h in readings if (found := sorted(numbers_in(h)))]
    other = sum(found != said for found in heard)
    return frozenset(said) if other > len(heard) - other else frozenset()


def _holds_more(reading: str, text: str) -> bool:
    """Whether ``reading`` says every word of ``text`` in a row, and more."""
    words, own = reading.split(), text.split()
    return len(words) > len(own) and any(words[i : i + len(own)] == own for i in range(len(words) - len(own) + 1))
