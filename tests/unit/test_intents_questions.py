"""Golden sentences of the clock, weather, shopping-list and "never mind" intents, and their replies.

The home is written here (speech-to-phrase's nested shape), not taken from any benchmark.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from edge_assistant import replies
from edge_assistant.dispatch import Dispatcher
from edge_assistant.handlers.base import Command
from edge_assistant.handlers.log import LogHandler
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.parser import Parser

pytestmark = pytest.mark.unit

_HOME = """\
language: en
fixtures:
  areas:
    - name: Hallway
  entities:
    - {name: Hall Lamp, domain: light, area: Hallway}
    - {name: Lisbon, domain: weather}
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A small home with one weather entity, in speech-to-phrase's nested shape."""
    path = tmp_path_factory.mktemp("home") / "home.yaml"
    path.write_text(_HOME)
    return load_home(path)


@pytest.fixture(scope="module")
def parser(home: Home) -> Parser:
    """The template path alone: these sentences need no model."""
    return Parser(load_catalog(), home)


@pytest.mark.parametrize(
    ("text", "intent", "slots", "targets"),
    [
        ("what time is it", "HassGetCurrentTime", {}, []),
        ("what's the time", "HassGetCurrentTime", {}, []),
        ("what's the date", "HassGetCurrentDate", {}, []),
        ("what is today's date", "HassGetCurrentDate", {}, []),
        ("what's the weather", "HassGetWeather", {}, ["weather.lisbon"]),
        ("what is the weather like in Lisbon", "HassGetWeather", {"name": "Lisbon"}, ["weather.lisbon"]),
        ("add oat milk to my shopping list", "HassShoppingListAddItem", {"item": "oat milk"}, []),
        ("put eggs on the shopping list", "HassShoppingListAddItem", {"item": "eggs"}, []),
        ("nevermind", "HassNevermind", {}, []),
        ("never mind", "HassNevermind", {}, []),
    ],
)
def test_golden_sentence(parser: Parser, text: str, intent: str, slots: dict[str, Any], targets: list[str]) -> None:
    """Each sentence parses to its intent, slots and targets: what was asked, even where nothing acts."""
    result = parser.parse(text)
    assert (result.intent, result.slots, result.targets) == (intent, slots, targets)


def test_weather_in_a_home_without_a_weather_entity_is_refused(tmp_path: Path) -> None:
    """With no weather entity there is nothing to ask: a reason, never a guess at another device."""
    path = tmp_path / "home.yaml"
    path.write_text("entities:\n  - {name: Hall Lamp, domain: light}\n")
    result = Parser(load_catalog(), load_home(path)).parse("what's the weather")
    assert (result.intent, result.reason) == (None, "there is no weather")


def test_forecast_is_not_the_current_weather(parser: Parser) -> None:
    """A forecast is no template of the current-weather intent."""
    assert parser.parse("what is the weather going to be like tomorrow").intent is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (Command("u", "HassGetCurrentTime"), "It is 9:05 PM"),
        (Command("u", "HassGetCurrentDate"), "Today is Monday, March 3, 2025"),
        (Command("u", "HassGetWeather", {}, ("weather.lisbon",)), "Checked the weather for Lisbon"),
        (Command("u", "HassShoppingListAddItem", {"item": "oat milk"}), "Added oat milk to the shopping list"),
        (Command("u", "HassNevermind"), ""),
    ],
)
def test_done_reply(home: Home, command: Command, expected: str) -> None:
    """The clock answers time and date itself; the others say what was done; never mind says nothing."""
    assert replies.done_reply(command, home, now=datetime(2025, 3, 3, 21, 5)) == expected


def test_nevermind_is_a_silent_no_op_not_an_error(parser: Parser, home: Home) -> None:
    """Dispatched, "never mind" is one successful log line and no reply: not "Sorry, ..."."""
    stream = io.StringIO()
    dispatcher = Dispatcher([LogHandler(stream=stream)], home, parser.catalog)
    actions = asyncio.run(dispatcher.dispatch(parser.parse("never mind"), "u1"))
    logged = json.loads(stream.getvalue())
    assert [(a.ok, a.status, a.reply) for a in actions] == [(True, "done", "")]
    assert (logged["intent"], replies.summarize(actions)) == ("HassNevermind", "")
