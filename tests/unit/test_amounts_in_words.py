"""Amounts in words (issue 17 §2): "two and a half minutes", "half open", "a quarter", "three
quarters", as positions, levels and lengths, on a home this test writes itself.

The keyword model stands in for the language model's choice of intent only; the values come
from the words said (``nlu.normalize.amount_in``, ``nlu.timeexpr.durations``).
"""

from pathlib import Path

import pytest

from edge_assistant.events import IntentResult
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.normalize import amount_in, normalize_text
from edge_assistant.nlu.parser import Parser
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas: [{name: Study}]
entities:
  - {name: Study Lamp, id: light.study_lamp, area: study}
  - {name: Study Blinds, id: cover.study_blinds, area: study, device_class: blind}
"""
KEYWORDS = {
    "countdown": "start timer",
    "minutes": "start timer",
    "blinds": "set position",
    "dim": "set light",
    "turn off": "turn off",
}


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A study with a lamp and blinds."""
    path = tmp_path / "home.yaml"
    path.write_text(HOME, encoding="utf-8")
    return load_home(path)


def _parse(home: Home, text: str) -> IntentResult:
    return Parser(load_catalog(), home, KeywordChoiceModel(KEYWORDS)).parse(text)


@pytest.mark.parametrize(
    ("text", "value", "part"),
    [("two and a half", 2.5, False), ("three quarters", 0.75, True), ("a quarter", 0.25, True), ("half", 0.5, True)],
)
def test_amounts_read_from_the_number_table(text: str, value: float, part: bool) -> None:
    """A whole and a fraction is a number; a fraction alone is a part of a whole."""
    amount = amount_in(normalize_text(text))
    assert amount is not None and (amount.value, amount.part) == (value, part)


@pytest.mark.parametrize("text", ["on june third", "the twenty third", "at quarter past seven", "one thirds"])
def test_an_ordinal_or_a_bare_fraction_is_no_amount(text: str) -> None:
    """ "june third" is a date and "the twenty third" an ordinal: a fraction other than "half"
    needs a count that agrees with it ("a quarter", "two thirds")."""
    assert amount_in(normalize_text(text)) is None


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("set the study blinds to three quarters", 75),
        ("set the study blinds to a quarter", 25),
        ("put the study blinds half open", 50),
        ("set the study blinds halfway", 50),
    ],
)
def test_a_part_of_the_whole_is_a_position_in_percent(home: Home, text: str, position: int) -> None:
    """ "three quarters" is 75 percent open, not 3."""
    result = _parse(home, text)
    assert (result.intent, result.slots.get("position")) == ("HassSetPosition", position)


def test_dim_to_a_quarter_sets_a_level(home: Home) -> None:
    """ "dim ... to a quarter" sets brightness 25; it is no step down."""
    assert _parse(home, "dim the study lamp to a quarter").slots == {"name": "Study Lamp", "brightness": 25}


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("start a countdown of two and a half minutes", {"minutes": 2, "seconds": 30}),
        ("start a countdown of an hour and a half", {"hours": 1, "minutes": 30}),
        ("start a countdown of three quarters of an hour", {"minutes": 45}),
        ("start a countdown of half a minute", {"seconds": 30}),
    ],
)
def test_a_length_with_a_fraction(home: Home, text: str, length: dict[str, int]) -> None:
    """The whole goes to its unit and the fraction to the next smaller one."""
    result = _parse(home, text)
    assert (result.intent, result.slots) == ("HassStartTimer", length)


def test_a_delayed_command_with_a_fraction_keeps_its_command(home: Home) -> None:
    """ "in two and a half minutes" is a delay: the lamp goes off then, not now."""
    result = _parse(home, "turn off the study lamp in two and a half minutes")
    assert (result.intent, result.slots) == (
        "HassStartTimer",
        {"minutes": 2, "seconds": 30, "conversation_command": "turn off the study lamp"},
    )
