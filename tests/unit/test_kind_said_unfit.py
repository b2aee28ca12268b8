"""Devices said by their kind, and doors said as doors, are acted on as said.

Found by exploratory testing on the example home: "turn the fan up" and "turn the heat up" turned
the TV's volume up (the model read a volume change, no device was named, and the home's one media
player was taken), "pause the fan" paused the TV. The kind said names the devices meant: one of
them is named, so the intent is unfit for it and the next reading is tried; several say what cannot
be done. A kind that fits the intent, and a kind word inside a room's name, change nothing.
"Open the front door" (a lock) locked it and "close the front door" unlocked it; "there is no
climate in the Bedroom" named a domain, not a thing. On a home this test writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.nlu.targets import other_kind
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {id: living_room, name: Living Room}
  - {id: study, name: Study}
  - {id: tv_room, name: TV Room}
entities:
  - {id: fan.ceiling, name: Ceiling Fan, area: living_room}
  - {id: media_player.tv, name: Television, area: living_room}
  - {id: light.study_lamp, name: Study Lamp, area: study}
  - {id: light.floor_lamp, name: Floor Lamp, area: living_room}
  - {id: light.tv_room, name: Sofa Light, area: tv_room}
  - {id: climate.study, name: Study Thermostat, area: study}
  - {id: climate.living_room, name: Living Room Thermostat, area: living_room}
  - {id: lock.front_door, name: Front Door, area: living_room}
"""


@pytest.fixture
def home(tmp_path: Path) -> Home:
    path = tmp_path / "home.yaml"
    path.write_text(HOME, encoding="utf-8")
    return load_home(path)


def _parser(home: Home, keywords: dict[str, str]) -> Parser:
    return Parser(load_catalog(), home, KeywordChoiceModel(keywords), ParserSettings(min_confidence=0.3))


@pytest.mark.parametrize(
    ("text", "keywords", "reason"),
    [
        ("turn the fan up", {"up": "change volume"}, "the Ceiling Fan cannot change volume"),
        ("turn the heat up", {"up": "change volume"}, "the heat cannot change volume"),
        ("turn the heating down in the study", {"down": "change volume"}, "the heating cannot change volume"),
        ("pause the fan", {"pause": "pause media"}, "the Ceiling Fan cannot pause media"),
        ("turn the lamp up a bit", {"up": "change volume"}, "the lamp cannot change volume"),
    ],
)
def test_a_kind_the_intent_cannot_act_on_is_refused_not_taken_for_another(
    home: Home, text: str, keywords: dict[str, str], reason: str
) -> None:
    result = _parser(home, keywords).parse(text)
    assert (result.intent, result.targets, result.reason) == (None, [], reason)


def test_the_next_reading_is_tried_for_the_one_device_of_the_kind(home: Home) -> None:
    # The model's second reading (0.25, above the floor) fits the fan: that, not the TV's volume.
    model = KeywordChoiceModel({"up": "change volume", "fan": "turn on"}, probability=0.5)
    result = Parser(load_catalog(), home, model, ParserSettings(min_confidence=0.2)).parse("turn the fan up")
    assert (result.intent, result.targets) == ("HassTurnOn", ["fan.ceiling"])


@pytest.mark.parametrize(
    ("text", "keywords", "intent", "targets"),
    [
        ("turn the music up", {"up": "change volume"}, "HassSetVolumeRelative", ["media_player.tv"]),
        ("turn the volume up", {"up": "change volume"}, "HassSetVolumeRelative", ["media_player.tv"]),
        ("dim the lights in the tv room", {"dim": "set light"}, "HassLightSet", ["light.tv_room"]),
        ("dim the floor lamp by the tv", {"dim": "set light"}, "HassLightSet", ["light.floor_lamp"]),
    ],
)
def test_a_kind_that_fits_or_a_room_named_for_one_changes_nothing(
    home: Home, text: str, keywords: dict[str, str], intent: str, targets: list[str]
) -> None:
    result = _parser(home, keywords).parse(text)
    assert (result.intent, result.targets) == (intent, targets)


def test_other_kind_reads_the_last_kind_word_outside_places(home: Home) -> None:
    catalog = load_catalog()
    volume, light = catalog.intents["HassSetVolumeRelative"], catalog.intents["HassLightSet"]
    assert other_kind(volume, home, "turn the fan up") == "Ceiling Fan"
    assert other_kind(volume, home, "turn the lamps up") == "lamps"
    assert other_kind(volume, home, "turn it up in the tv room") is None
    assert other_kind(volume, home, "turn the fan up on the tv") is None  # the tv fits
    assert other_kind(light, home, "dim the lights in the tv room") is None
    assert other_kind(catalog.intents["HassStartTimer"], home, "a timer for the fan") is None  # no domains


@pytest.mark.parametrize(
    ("text", "keywords", "intent"),
    [
        ("open the front door", {"open": "turn on"}, "HassTurnOff"),  # unlocked (the policy asks first)
        ("close the front door", {"close": "turn off"}, "HassTurnOn"),
        ("shut the front door please", {"shut": "turn off"}, "HassTurnOn"),
        ("unlock the front door", {"unlock": "turn on"}, "HassTurnOff"),
    ],
)
def test_a_lock_opened_is_unlocked_and_closed_is_locked(
    home: Home, text: str, keywords: dict[str, str], intent: str
) -> None:
    result = _parser(home, keywords).parse(text + " right now")  # the model path
    assert (result.intent, result.targets, result.source) == (intent, ["lock.front_door"], "model")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("what is the temperature in the tv room", "there is no thermostat or sensor in the TV Room"),
        ("set the temperature in the tv room to 20 degrees", "there is no thermostat in the TV Room"),
    ],
)
def test_a_kind_missing_from_a_room_is_named_as_people_say_it(home: Home, text: str, reason: str) -> None:
    assert _parser(home, {}).parse(text).reason == reason


@pytest.mark.parametrize(
    ("text", "percentage"),
    [("set the fan to low", 33), ("set the ceiling fan to medium", 66), ("turn the fan on high", 100)],
)
def test_a_fans_named_speeds_are_percentages(home: Home, text: str, percentage: int) -> None:
    # "What speed, in percent?" was asked of a three-speed fan's own words.
    result = _parser(home, {"fan": "set fan speed"}).parse(text)
    assert (result.intent, result.targets, result.slots.get("percentage")) == (
        "HassFanSetSpeed",
        ["fan.ceiling"],
        percentage,
    )
