"""Text and slot-value normalisation: number words, percent, degrees, durations."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["normalize_text", "numbers_in", "to_int", "words_to_digits"]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "a": 1, "an": 1,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES)


def words_to_digits(text: str) -> str:
    """Replace runs of English number words by digits ("twenty five" -> "25").

    A lone "a"/"an" stays a word unless a scale follows ("a hundred" -> "100").
    """
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        value, used = _read_number(tokens, i)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def _read_number(tokens: list[str], start: int) -> tuple[int, int]:
    total, current, used = 0, 0, 0
    i = start
    while i < len(tokens):
        word = tokens[i].replace("-", " ").split()
        if len(word) == 2 and word[0] in _TENS and word[1] in _UNITS:  # "twenty-five"
            current += _TENS[word[0]] + _UNITS[word[1]]
        elif tokens[i] in ("a", "an"):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt not in _SCALES:
                break
            current += 1
        elif tokens[i] in _UNITS and tokens[i] not in ("a", "an"):
            current += _UNITS[tokens[i]]
        elif tokens[i] in _TENS:
            current += _TENS[tokens[i]]
        elif tokens[i] in _SCALES and (used or current):
            current = max(current, 1) * _SCALES[tokens[i]]
            if _SCALES[tokens[i]] >= 1000:
                total, current = total + current, 0
        elif tokens[i] == "and" and used and i + 1 < len(tokens) and tokens[i + 1] in _NUMBER_WORDS:
            pass
        else:
            break
        used += 1
        i += 1
    return total + current, used


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
