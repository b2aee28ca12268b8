"""Answers to "which one?": the answer picks among the devices offered, keeps the action asked
for, and "one" said for a thing is no number. Found by exploratory testing of multi-turn
dialogue; on a home this test writes, with a stand-in model that reads switching only."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {id: living_room, name: Living Room}
  - {id: bedroom, name: Bedroom}
  - {id: kitchen, name: Kitchen}
entities:
  - {id: light.living_room_lamp, name: Living Room Lamp, area: living_room}
  - {id: fan.ceiling, name: Ceiling Fan, area: living_room}
  - {id: light.bedroom_lamp, name: Bedroom Lamp, area: bedroom, aliases: [bedside lamp]}
  - {id: light.ceiling_bedroom, name: Ceiling Light, area: bedroom}
  - {id: light.ceiling_kitchen, name: Ceiling Light, area: kitchen}
"""
KEYWORDS = {"off": "turn off", "on": "turn on"}


@pytest.fixture
def parser(tmp_path: Path) -> Parser:
    path = tmp_path / "home.yaml"
    path.write_text(HOME, encoding="utf-8")
    settings = ParserSettings(follow_up_s=10.0, min_confidence=0.3)
    return Parser(load_catalog(), load_home(path), KeywordChoiceModel(KEYWORDS), settings)


def _answered(parser: Parser, command: str, answer: str) -> tuple[str | None, list[str], str | None]:
    dialogue = Dialogue()
    asked = parser.parse(command, dialogue)
    assert asked.awaiting is not None, asked
    done = parser.parse(answer, dialogue)
    return done.intent, done.targets, done.reason


def test_a_room_answer_picks_the_device_offered_there(parser: Parser) -> None:
    """ "Which lamp?" answered "in the living room" turned on its fan too; "in the bedroom" after
    "turn off the lamp" turned off its ceiling light too."""
    assert _answered(parser, "turn on the lamp", "in the living room")[:2] == ("HassTurnOn", ["light.living_room_lamp"])
    assert _answered(parser, "turn off the lamp", "in the bedroom")[:2] == ("HassTurnOff", ["light.bedroom_lamp"])
    assert _answered(parser, "turn on the lamp", "in the kitchen") == (None, [], "none of them is in the Kitchen")


def test_an_alias_answer_keeps_the_action(parser: Parser) -> None:
    """ "The bedside lamp" (the Bedroom Lamp's alias) after "turn off the lamp" turned it on."""
    assert _answered(parser, "turn off the lamp", "the bedside lamp")[:2] == ("HassTurnOff", ["light.bedroom_lamp"])


@pytest.mark.parametrize("answer", ["the kitchen one", "the kitchen one please"])
def test_the_kitchen_one_answers_which(parser: Parser, answer: str) -> None:
    """It set the kitchen's lights to 1%."""
    assert _answered(parser, "turn on the ceiling light", answer)[:2] == ("HassTurnOn", ["light.ceiling_kitchen"])
    assert _answered(parser, "turn on the lamp", "the bedroom one")[:2] == ("HassTurnOn", ["light.bedroom_lamp"])


def test_one_said_for_a_thing_is_no_number(parser: Parser) -> None:
    assert parser.parse("the bedroom one").intent != "HassLightSet"
    assert [normalize_text(t) for t in ("the kitchen one", "that one", "the other one please")] == [
        "the kitchen one",
        "that one",
        "the other one please",
    ]
    # A number still: after a word that brings a value, or before more of a number.
    assert [normalize_text(t) for t in ("set the lamp to one", "one hundred", "the one hundred", "dim it by one")] == [
        "set the lamp to 1",
        "100",
        "the 100",
        "dim it by 1",
    ]
    assert parser.parse("set the living room lamp to one percent").slots.get("brightness") == 1
