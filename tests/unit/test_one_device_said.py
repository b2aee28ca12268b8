"""One device said by its kind or a word of its name, and turns that answer two things at once.

Found by exploratory testing of multi-turn dialogue: "dim the lamp" dimmed every light of the home
while "turn off the lamp" asked which; "unlock the door" (a lock and a garage door) said only
"which device do you mean?" and the answer "the front door" then locked it; "pause the vacuum"
said the vacuum cannot pause media; a yes to "unlock the front door and dim the lamp" dropped the
lamp's question, and the lamp's answer dropped the confirmation; "the kitchen and the study"
answered "which room?" with the kitchen alone. On a home this test writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_assistant import Assistant
from edge_assistant.config import load_settings
from edge_assistant.dispatch import build_dispatcher
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {id: kitchen, name: Kitchen}
  - {id: study, name: Study}
  - {id: living_room, name: Living Room}
  - {id: garage, name: Garage}
  - {id: entrance, name: Entrance}
entities:
  - {id: light.kitchen, name: Kitchen Light, area: kitchen}
  - {id: light.study_lamp, name: Study Lamp, area: study}
  - {id: light.floor_lamp, name: Floor Lamp, area: living_room}
  - {id: light.salt_lamp, name: Salt and Pepper Lamp, area: kitchen}
  - {id: cover.garage_door, name: Garage Door, area: garage, device_class: garage}
  - {id: lock.front_door, name: Front Door, area: entrance}
  - {id: vacuum.rover, name: Rover, area: living_room, aliases: [vacuum]}
  - {id: media_player.tv, name: TV, area: living_room}
"""
KEYWORDS = {
    "unlock": "turn off",
    "lock": "turn on",
    "open": "turn on",
    "pause": "pause media",
    "off": "turn off",
    "on": "turn on",
}
LAMPS = ["light.floor_lamp", "light.salt_lamp", "light.study_lamp"]


@pytest.fixture
def home_path(tmp_path: Path) -> Path:
    path = tmp_path / "home.yaml"
    path.write_text(HOME, encoding="utf-8")
    return path


@pytest.fixture
def home(home_path: Path) -> Home:
    return load_home(home_path)


@pytest.fixture
def parser(home: Home) -> Parser:
    settings = ParserSettings(follow_up_s=10.0, min_confidence=0.3)
    return Parser(load_catalog(), home, KeywordChoiceModel(KEYWORDS), settings)


@pytest.mark.parametrize("text", ["dim the lamp", "brighten the lamp", "make the lamp brighter", "turn down the light"])
def test_a_kind_said_in_the_singular_on_the_templates_asks_which(parser: Parser, text: str) -> None:
    result = parser.parse(text)
    assert (result.intent, result.source, result.awaiting) == (None, "template", "HassLightSet")
    assert result.reason is not None and result.reason.startswith("which l")


def test_the_answer_keeps_the_change_asked_for(parser: Parser) -> None:
    dialogue = Dialogue()
    parser.parse("dim the lamp", dialogue)
    done = parser.parse("the study lamp", dialogue)
    assert (done.intent, done.targets, done.slots.get("brightness_step")) == (
        "HassLightSet",
        ["light.study_lamp"],
        -25,
    )


def test_the_plural_and_a_room_still_take_every_one(parser: Parser, home: Home) -> None:
    assert sorted(parser.parse("dim the lights").targets) == sorted(["light.kitchen", *LAMPS])
    here = Parser(load_catalog(), home, None, ParserSettings(area="Study"))
    assert here.parse("dim the lamp").targets == ["light.study_lamp"]


@pytest.mark.parametrize(
    ("text", "intent", "targets"),
    [
        ("unlock the door", "HassTurnOff", ["lock.front_door"]),
        ("lock the door", "HassTurnOn", ["lock.front_door"]),
        ("open the door", "HassTurnOn", ["cover.garage_door"]),
    ],
)
def test_the_way_said_picks_the_door_of_its_kind(parser: Parser, text: str, intent: str, targets: list[str]) -> None:
    """A lock and a garage door both end in "Door": "unlock" is a lock's way, "open" a cover's."""
    result = parser.parse(text)
    assert (result.intent, result.targets) == (intent, targets), result


def test_a_door_of_no_way_asks_which_and_the_answer_keeps_the_way(parser: Parser) -> None:
    dialogue = Dialogue()
    asked = parser.parse("turn off the door", dialogue)
    assert asked.reason == "which door do you mean: the Garage Door or the Front Door?"
    done = parser.parse("the front door", dialogue)
    assert (done.intent, done.targets) == ("HassTurnOff", ["lock.front_door"])  # an unlock, not a lock


def test_a_word_no_name_ends_with_is_still_no_device(parser: Parser) -> None:
    assert parser.parse("unlock the window").intent is None


def test_pausing_a_vacuum_is_its_own_way_not_media(parser: Parser) -> None:
    """Read as "pause media", which the Rover cannot do: a vacuum's pause sends it to its base."""
    result = parser.parse("pause the vacuum")
    assert (result.intent, result.targets) == ("HassVacuumReturnToBase", ["vacuum.rover"])
    assert parser.parse("pause the tv").intent == "HassMediaPause"


def test_a_command_for_another_device_is_no_answer(parser: Parser) -> None:
    dialogue = Dialogue()
    parser.parse("dim the lamp", dialogue)
    result = parser.parse("pause the vacuum", dialogue)
    assert (result.intent, result.targets) == ("HassVacuumReturnToBase", ["vacuum.rover"])


@pytest.mark.parametrize(
    ("command", "answer", "targets"),
    [
        ("dim the lamp", "the study lamp and the floor lamp", ["light.floor_lamp", "light.study_lamp"]),
        ("turn off everything", "the kitchen and the study", ["light.kitchen", "light.salt_lamp", "light.study_lamp"]),
        ("turn off everything", "kitchen, study and living room", ["light.kitchen", *LAMPS, "media_player.tv"]),
        ("dim the lamp", "the salt and pepper lamp", ["light.salt_lamp"]),
    ],
)
def test_an_answer_may_name_several(parser: Parser, command: str, answer: str, targets: list[str]) -> None:
    dialogue = Dialogue()
    assert parser.parse(command, dialogue).awaiting
    done = parser.parse(answer, dialogue)
    assert sorted(done.targets) == sorted(targets), done


def _assistant(tmp_path: Path, parser: Parser) -> tuple[Assistant, Path]:
    """The real dispatcher and log handler around the test's parser."""
    log = tmp_path / "actions.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f'[handlers.log]\npath = "{log}"\n', encoding="utf-8")
    settings = load_settings(config)
    return Assistant(parser, build_dispatcher(settings, parser.home, parser.catalog), None, settings), log


def _done(log: Path) -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return [(r["intent"], r["targets"]) for r in rows]


def test_a_yes_leaves_the_question_asked_beside_it(tmp_path: Path, parser: Parser) -> None:
    assistant, log = _assistant(tmp_path, parser)
    with assistant:
        asked = assistant.handle("unlock the front door and dim the lamp", speak=False)
        yes = assistant.handle("yes", speak=False)
        answer = assistant.handle("the floor lamp", speak=False)
    assert [a.status for a in asked.actions] == ["confirm", "rejected"]
    assert yes.reply.startswith("Unlocked the front door. Which lamp do you mean")
    assert answer.reply == "Dimmed the floor lamp."
    assert _done(log) == [("HassTurnOff", ["lock.front_door"]), ("HassLightSet", ["light.floor_lamp"])]


def test_the_answer_leaves_the_confirmation_asked_beside_it(tmp_path: Path, parser: Parser) -> None:
    assistant, log = _assistant(tmp_path, parser)
    with assistant:
        assistant.handle("unlock the front door and dim the lamp", speak=False)
        answer = assistant.handle("the floor lamp", speak=False)
        assert _done(log) == [("HassLightSet", ["light.floor_lamp"])]
        yes = assistant.handle("yes", speak=False)
    assert answer.reply == "Dimmed the floor lamp. Are you sure you want to unlock the front door?"
    assert yes.reply == "Unlocked the front door."
    assert _done(log)[-1] == ("HassTurnOff", ["lock.front_door"])


def test_an_answer_that_needs_a_yes_too_is_asked_with_it(tmp_path: Path, parser: Parser) -> None:
    assistant, log = _assistant(tmp_path, parser)
    with assistant:
        assistant.handle("unlock the front door and turn off the door", speak=False)
        answer = assistant.handle("the garage door", speak=False)
        yes = assistant.handle("yes", speak=False)
    assert answer.reply == "Are you sure you want to unlock the front door and close the garage door?"
    assert sorted(yes.reply.rstrip(".").split(". ")) == ["Closed the garage door", "Unlocked the front door"]
    assert sorted(_done(log)) == [("HassTurnOff", ["cover.garage_door"]), ("HassTurnOff", ["lock.front_door"])]


def test_a_command_that_names_no_device_asks_which_and_is_answered(parser: Parser) -> None:
    """ "Power off" said "which device do you mean?" and kept no question: no answer could follow."""
    dialogue = Dialogue()
    asked = parser.parse("power off", dialogue)
    assert (asked.intent, asked.reason, asked.awaiting) == (None, "which device do you mean?", "HassTurnOff")
    done = parser.parse("the tv", dialogue)
    assert (done.intent, done.targets) == ("HassTurnOff", ["media_player.tv"])
    parser.parse("power off", dialogue)
    assert sorted(parser.parse("in the kitchen", dialogue).targets) == ["light.kitchen", "light.salt_lamp"]


def test_a_kind_the_home_has_none_of_is_refused_by_its_word(tmp_path: Path) -> None:
    """ "Turn on the tv" in a home with no media player asked "which device do you mean?"."""
    path = tmp_path / "no_tv.yaml"
    path.write_text(HOME.replace("  - {id: media_player.tv, name: TV, area: living_room}\n", ""), encoding="utf-8")
    parser = Parser(load_catalog(), load_home(path), KeywordChoiceModel(KEYWORDS), ParserSettings(min_confidence=0.3))
    result = parser.parse("turn on the tv")
    assert (result.intent, result.reason, result.awaiting) == (None, "there is no device called 'tv'", None)
