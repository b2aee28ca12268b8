"""Commands said for a clock time ("turn off the lights at 11 pm"): a timer until then that
carries the command, never the command now."""

from datetime import datetime
from pathlib import Path

import pytest

from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.nlu.timeexpr import clock_command
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 20, 30, 15)  # a Thursday evening


def _hms(seconds: int) -> tuple[int, int, int]:
    return seconds // 3600, seconds % 3600 // 60, seconds % 60


@pytest.mark.parametrize(
    ("text", "command", "until"),
    [
        ("turn off the lights at eleven pm", "turn off the lights", (2, 29, 45)),
        ("turn off the lights at 11 p.m.", "turn off the lights", (2, 29, 45)),
        ("at 23:15 turn off the lights", "turn off the lights", (2, 44, 45)),
        ("make coffee at six thirty am", "make coffee", (9, 59, 45)),
        ("make coffee at 6:30", "make coffee", (9, 59, 45)),  # no am/pm: the next 6:30
        ("make coffee at seven o'clock", "make coffee", (10, 29, 45)),
        ("make coffee at eight in the morning", "make coffee", (11, 29, 45)),
        ("heat the pool at half past nine", "heat the pool", (0, 59, 45)),  # 21:30 comes first
        ("make coffee at quarter to eight in the morning", "make coffee", (11, 14, 45)),
        ("make coffee at quarter to one pm", "make coffee", (16, 14, 45)),
        ("turn on the porch light at noon", "turn on the porch light", (15, 29, 45)),
        ("turn the heating off at midnight", "turn the heating off", (3, 29, 45)),
        ("tomorrow at 9 pm turn on the lights", "turn on the lights", (24, 29, 45)),
        ("turn on the lights at 8 tonight", "turn on the lights", (23, 29, 45)),  # 8 pm has passed
    ],
)
def test_clock_time_is_the_time_until_then(text: str, command: str, until: tuple[int, int, int]) -> None:
    """The command without its time, and the exact time from now until its next occurrence."""
    found = clock_command(text, NOW)
    assert found is not None and (found[0], _hms(found[1])) == (command, until)


@pytest.mark.parametrize(
    "text",
    [
        "set the thermostat at 20",  # a value, not a time
        "dim the lights at 50 percent",
        "wake me up at 7 am",  # an alarm: nothing to do but ring
        "set an alarm for 7 am",
        "start a timer at 7 pm",
        "make coffee at three pm every week day",  # repeating: no timer does that
        "turn off the lights at 25:00",
    ],
)
def test_no_clock_command(text: str) -> None:
    """Values, alarms, timers, repeats and impossible times are no command for a clock time."""
    assert clock_command(text, NOW) is None


def _parser(example_home_path: Path) -> Parser:
    model = KeywordChoiceModel({"kill": "turn off", "minutes": "start timer"}, probability=0.9)
    return Parser(load_catalog(), load_home(example_home_path), model, clock=lambda: NOW)


def test_command_at_a_clock_time_is_a_timer_that_carries_it(example_home_path: Path) -> None:
    """Template path: the lights are not turned off now; a timer until 11 pm carries the command."""
    result = _parser(example_home_path).parse("turn off the kitchen light at 11 pm")
    assert (result.intent, result.targets, result.source) == ("HassStartTimer", [], "template")
    assert result.slots == {
        "hours": 2,
        "minutes": 29,
        "seconds": 45,
        "conversation_command": "turn off the kitchen light",
    }


def test_model_path_command_at_a_clock_time(example_home_path: Path) -> None:
    """Model path: the same, with the model's confidence for the command."""
    result = _parser(example_home_path).parse("kill the lights at half past ten pm")
    assert (result.intent, result.source, result.confidence) == ("HassStartTimer", "model", 0.9)
    assert result.slots == {"hours": 1, "minutes": 59, "seconds": 45, "conversation_command": "kill the lights"}


def test_clock_time_command_that_means_nothing_is_rejected(example_home_path: Path) -> None:
    """ "remind me to call mom at 5 pm" would start a timer that does nothing: rejected, saying why."""
    result = _parser(example_home_path).parse("remind me to call mom at 5 pm")
    assert result.intent is None
    assert result.reason is not None and result.reason.startswith("I cannot do 'remind me to call mom' later")


def test_clock_time_without_a_timer_intent_is_rejected(example_home_path: Path) -> None:
    """A catalog without timers cannot hold a command for later, so it is not run now either."""
    catalog = load_catalog()
    no_timer = catalog.model_copy(update={"intents": {k: v for k, v in catalog.intents.items() if "Timer" not in k}})
    parser = Parser(no_timer, load_home(example_home_path), None, clock=lambda: NOW)
    result = parser.parse("turn off the kitchen light at 11 pm")
    assert (result.intent, result.reason) == (
        None,
        "I cannot do 'turn off the kitchen light' later: no timer intent in the catalog",
    )


def test_daylight_saving_change_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Europe/Berlin, the night clocks go back (2026-10-25, 03:00 -> 02:00): from 20:00 the day
    before until 7 am is 11 hours on the wall clock but 12 hours in real time."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset on this platform")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        found = clock_command("make coffee at 7 am", datetime(2026, 10, 24, 20, 0, 0))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert found == ("make coffee", 12 * 3600)


def test_a_time_less_than_a_second_away_is_a_one_second_timer() -> None:
    """ "at 9 pm" said at 20:59:59.7 is not a timer of no length (a question "For how long?")."""
    found = clock_command("turn off the lights at 9 pm", datetime(2026, 11, 26, 20, 59, 59, 700000))
    assert found == ("turn off the lights", 1)
