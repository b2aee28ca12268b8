"""Reply texts for actions, questions and rejected parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant import replies
from edge_assistant.events import ActionResult
from edge_assistant.handlers.base import Command
from edge_assistant.home import Home, load_home

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


@pytest.mark.parametrize(
    ("intent", "targets", "slots", "expected"),
    [
        ("HassTurnOff", ("light.kitchen",), {"name": "Kitchen Light"}, "Turned off the kitchen light"),
        ("HassTurnOn", ("cover.garage_door",), {"name": "Garage Door"}, "Opened the garage door"),
        ("HassTurnOn", ("lock.front_door",), {"name": "Front Door"}, "Locked the front door"),
        ("HassTurnOff", ("light.study_lamp",), {"area": "Study", "domain": "light"}, "Turned off the study lamp"),
        (
            "HassTurnOff",
            ("light.kitchen", "light.kitchen_counter"),
            {"area": "Kitchen", "domain": "light"},
            "Turned off the lights in the kitchen",
        ),
        (
            "HassLightSet",
            ("light.kitchen",),
            {"name": "Kitchen Light", "brightness": 30},
            "Set the kitchen light to 30%",
        ),
        ("HassMediaPause", ("media_player.tv",), {"name": "TV"}, "Paused the TV"),
        ("HassStartTimer", (), {"minutes": 5}, "Started a timer for 5 minutes"),
        (
            "HassStartTimer",
            (),
            {"hours": 2, "minutes": 29, "conversation_command": "turn off the lights"},
            "Started a timer for 2 hours and 29 minutes to turn off the lights",
        ),
        ("HassGetState", ("sensor.outside_temperature",), {}, "The outside temperature is 12"),
    ],
)
def test_done_reply(home: Home, intent: str, targets: tuple[str, ...], slots: dict[str, object], expected: str) -> None:
    """The report names the verb for the domain and the targets from the home."""
    assert replies.done_reply(Command("u", intent, slots, targets), home) == expected


def test_a_name_several_rooms_have_is_said_with_its_room(tmp_path: Path) -> None:
    """ "Turned on the ceiling light in the bedroom" where the kitchen has a Ceiling Light too."""
    path = tmp_path / "home.yaml"
    path.write_text(
        "areas: [{name: Kitchen}, {name: Bedroom}]\nentities:\n"
        "  - {name: Ceiling Light, domain: light, area: kitchen}\n"
        "  - {name: Ceiling Light, domain: light, area: bedroom}\n  - {name: Lamp, domain: light, area: bedroom}\n",
        encoding="utf-8",
    )
    home = load_home(path)
    said = [
        replies.done_reply(Command("u", "HassTurnOn", {}, (t,)), home) for t in ("light.ceiling_light_2", "light.lamp")
    ]
    assert said == ["Turned on the ceiling light in the bedroom", "Turned on the lamp"]
    both = Command("u", "HassTurnOn", {"name": "Ceiling Light"}, ("light.ceiling_light", "light.ceiling_light_2"))
    assert (
        replies.done_reply(both, home)
        == "Turned on the ceiling light in the kitchen and the ceiling light in the bedroom"
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("there is no device called 'dishwasher'", "Sorry, there is no dishwasher."),
        ("there is no light in the garage", "Sorry, there is no light in the garage."),
        ("out of scope", "Sorry, I didn't understand that."),
        ("which device do you mean?", "Which device do you mean?"),
        ("brightness 500 is out of range 0 to 100", "Sorry, brightness 500 is out of range 0 to 100."),
        ("empty text", ""),
        ("say a value for brightness or color", "Sorry, I need a brightness or color."),
    ],
)
def test_rejected_reply(reason: str, expected: str) -> None:
    """A rejected parse gets a short spoken reason."""
    assert replies.rejected_reply(reason) == expected


def test_summarize_says_each_reply_once_failures_first() -> None:
    """Two handlers doing the same thing are one sentence; a failure comes first."""
    actions = [
        ActionResult(handler="log", ok=True, reply="Turned off the kitchen light"),
        ActionResult(handler="mqtt", ok=True, reply="Turned off the kitchen light"),
        ActionResult(handler="http", ok=False, reply="Sorry, I could not turn off the kitchen light"),
    ]
    assert replies.summarize(actions) == "Sorry, I could not turn off the kitchen light. Turned off the kitchen light."
    assert replies.summarize([]) == ""
