"""Every device of a room, said with no device named: the verb says which kind.

"Turn everything off in the entrance" switches the room's powered devices (lights, switches, fans,
media players), never its lock, door or valve, whose "off" unlocks, closes or shuts; "unlock
everything" is the locks only, "close all" the covers only. On a home this test writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = {
    "areas": [
        {"name": "Entrance", "id": "entrance"},
        {"name": "Kitchen", "id": "kitchen"},
        {"name": "Shed", "id": "shed"},
    ],
    "entities": [
        {"name": "Porch Light", "id": "light.porch", "area": "entrance"},
        {"name": "Hall Fan", "id": "fan.hall", "area": "entrance"},
        {"name": "Front Door", "id": "lock.front_door", "area": "entrance"},
        {"name": "Garage Door", "id": "cover.garage_door", "area": "entrance", "device_class": "garage"},
        {"name": "Hall Blinds", "id": "cover.hall_blinds", "area": "entrance", "device_class": "blind"},
        {"name": "Sprinkler", "id": "valve.sprinkler", "area": "entrance"},
        {"name": "Shed Lock", "id": "lock.shed", "area": "shed"},
        {"name": "Kitchen Light", "id": "light.kitchen", "area": "kitchen"},
    ],
}
KEYWORDS = {
    "unlock": "turn off",
    "lock": "turn on",
    "open": "turn on",
    "close": "turn off",
    "off": "turn off",
    "on": "turn on",
}


@pytest.fixture
def home(tmp_path: Path) -> Home:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(HOME), encoding="utf-8")
    return load_home(path)


@pytest.fixture
def parser(home: Home) -> Parser:
    return Parser(load_catalog(), home, KeywordChoiceModel(KEYWORDS), ParserSettings(min_confidence=0.3))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("turn everything off in the entrance", "HassTurnOff"),
        ("switch off all the devices in the entrance", "HassTurnOff"),
        ("turn on everything in the entrance", "HassTurnOn"),
    ],
)
def test_everything_in_a_room_is_its_powered_devices(parser: Parser, text: str, intent: str) -> None:
    result = parser.parse(text)
    assert (result.intent, sorted(result.targets)) == (intent, ["fan.hall", "light.porch"]), result


@pytest.mark.parametrize(
    ("text", "intent", "targets"),
    [
        ("unlock everything in the entrance", "HassTurnOff", ["lock.front_door"]),
        ("lock everything in the entrance", "HassTurnOn", ["lock.front_door"]),
        ("close all in the entrance", "HassTurnOff", ["cover.garage_door", "cover.hall_blinds"]),
        ("open everything in the entrance", "HassTurnOn", ["cover.garage_door", "cover.hall_blinds"]),
    ],
)
def test_a_lock_or_cover_verb_says_the_kind(parser: Parser, text: str, intent: str, targets: list[str]) -> None:
    result = parser.parse(text)
    assert (result.intent, sorted(result.targets)) == (intent, targets), result


def test_a_room_with_nothing_powered_says_so(parser: Parser) -> None:
    """The shed has only a lock: "switch everything on" there is refused, not a lock."""
    result = parser.parse("switch everything on in the shed")
    assert (result.intent, result.reason) == (None, "there is nothing to switch on or off in the Shed")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("turn off everything in the entrance", "HassTurnOff"),
        ("switch everything off in the entrance", "HassTurnOff"),
        ("power on all of the devices in the entrance", "HassTurnOn"),
        ("turn all the things on in the entrance", "HassTurnOn"),
    ],
)
def test_the_templates_hold_a_whole_room(home: Home, text: str, intent: str) -> None:
    """Without the intent model: the catalog's sentences for a whole room, its powered devices."""
    result = Parser(load_catalog(), home, None).parse(text)
    assert (result.intent, result.source, sorted(result.targets)) == (intent, "template", ["fan.hall", "light.porch"])


def test_everything_said_with_no_room_is_the_room_it_is_said_in(home: Home) -> None:
    """A satellite's room (the conversation's) or ``[nlu] area``; with neither, not a command."""
    here = Parser(load_catalog(), home, None, ParserSettings(area="Entrance"))
    result = here.parse("turn off everything")
    assert (result.intent, sorted(result.targets)) == ("HassTurnOff", ["fan.hall", "light.porch"])
    anywhere = Parser(load_catalog(), home, None)
    result = anywhere.parse("switch everything on in here", Dialogue(area="Entrance"))
    assert (result.intent, sorted(result.targets)) == ("HassTurnOn", ["fan.hall", "light.porch"])


EVERY_POWERED = ["fan.hall", "light.kitchen", "light.porch"]


@pytest.mark.parametrize("model", [True, False])
def test_everything_with_no_room_known_asks_which_room(home: Home, model: bool) -> None:
    """With no room said or known, "turn off everything" asks which room, or everywhere, and a
    room or "everywhere" answers it. "Switch everything off" went to the model, which read
    "switch" as the kind and turned off a switch alone."""
    parser = Parser(
        load_catalog(), home, KeywordChoiceModel(KEYWORDS) if model else None, ParserSettings(follow_up_s=10.0)
    )
    dialogue = Dialogue()
    asked = parser.parse("switch everything off", dialogue)
    assert (asked.intent, asked.awaiting, asked.targets) == (None, "HassTurnOff", [])
    assert asked.reason == "which room: the Entrance, the Kitchen or everywhere?"
    done = parser.parse("in the kitchen", dialogue)
    assert (done.intent, done.targets) == ("HassTurnOff", ["light.kitchen"])
    for answer in ("everywhere", "the whole house"):
        parser.parse("turn on everything", dialogue)
        done = parser.parse(answer, dialogue)
        assert (done.intent, sorted(done.targets)) == ("HassTurnOn", EVERY_POWERED), answer
    assert parser.parse("turn off the lights").awaiting is None  # a kind said: not this question


@pytest.mark.parametrize(
    "text",
    ["turn off everything in the house", "switch everything off everywhere", "turn all the devices off in every room"],
)
def test_the_whole_home_said_is_every_room(home: Home, text: str) -> None:
    """Said anywhere, a satellite's room too: every room's powered devices, no question."""
    parser = Parser(load_catalog(), home, None)
    for dialogue in (Dialogue(), Dialogue(area="Kitchen")):
        result = parser.parse(text, dialogue)
        assert (result.intent, result.source, sorted(result.targets)) == ("HassTurnOff", "template", EVERY_POWERED)


def test_everything_in_a_home_of_one_powered_room_needs_no_question(tmp_path: Path) -> None:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump({**HOME, "entities": HOME["entities"][:-1]}), encoding="utf-8")
    result = Parser(load_catalog(), load_home(path), None).parse("turn everything off")
    assert (result.intent, sorted(result.targets)) == ("HassTurnOff", ["fan.hall", "light.porch"])


def test_a_device_named_is_still_that_device(parser: Parser) -> None:
    result = parser.parse("close the garage door")
    assert (result.intent, result.targets) == ("HassTurnOff", ["cover.garage_door"])
