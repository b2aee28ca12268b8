"""A name the speech engine's beam never reached, weighed on the audio (``Assistant.heard_name``).

The engine's scorer is played by a function of the texts it is given (log-probabilities as a
Whisper forced decode gives them); the parser, the home and the dialogue are real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from edge_assistant import Assistant
from edge_assistant.events import IntentResult
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.names import renamings, unknown_said
from edge_assistant.nlu.parser import Parser
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {name: Office}
entities:
  - {name: EcoBee, id: climate.ecobee, area: office}
  - {name: Echo Dot, id: media_player.echo_dot, area: office}
  - {name: Bed Light, id: light.bed, aliases: [Bedside Light]}
"""
HEARD = "what is the temperature of the incubi"
REFUSED = IntentResult(text=HEARD, reason="there is no device called 'incubi'")


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    """An assistant on the home above; its stand-in model reads temperature questions and switching."""
    path = tmp_path / "home.yaml"
    path.write_text(HOME)
    model = KeywordChoiceModel({"temperature": "get temperature", "turn on": "turn on"}, probability=0.95)
    return Assistant(Parser(load_catalog(), load_home(path), model))


class _Scores:
    """A scorer that gives each text its log-probability from ``table`` (any case), and keeps what it
    was asked."""

    def __init__(self, table: dict[str, float], default: float = -40.0) -> None:
        self.table, self.default = table, default
        self.seen: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[float]:
        self.seen.append(list(texts))
        return [self.table.get(text.lower(), self.default) for text in texts]


def test_the_refusal_names_what_was_said() -> None:
    assert unknown_said("there is no device called 'incubi'") == ("device", "incubi")
    assert unknown_said("there is no area called 'attic'") == ("area", "attic")
    assert unknown_said("which lamp do you mean?") is None
    assert unknown_said(None) is None


def test_each_name_of_the_kind_stands_in_for_the_words_said(assistant: Assistant) -> None:
    home = assistant.parser.home
    devices = dict((text, name) for name, text in renamings(home, HEARD, "device", "incubi"))
    assert devices[f"{HEARD[:-6]}EcoBee"] == "EcoBee"
    assert devices[f"{HEARD[:-6]}Bedside Light"] == "Bed Light"  # an alias is a spoken form
    assert next(iter(devices)).endswith("EcoBee")  # nearest in letters first
    places = renamings(home, "turn on the lights in the attic", "area", "attic")
    assert places == [("Office", "turn on the lights in the Office")]
    assert renamings(home, "turn on the lights", "device", "incubi") == []  # not said: nothing to replace
    assert renamings(home, "turn on the incubis", "device", "incubi") == []  # only whole words


def test_the_name_the_audio_says_as_well_as_the_word_heard_is_taken(assistant: Assistant) -> None:
    score = _Scores(
        {HEARD: -6.6, "what is the temperature of the ecobee": -6.0, "what is the temperature of the echo dot": -14.0}
    )
    assert assistant.heard_name(HEARD, REFUSED, score) == "what is the temperature of the EcoBee"
    turn = asyncio.run(assistant.handle_async(HEARD, speak=False, heard=True, score=score))
    assert (turn.parse.intent, turn.parse.targets) == ("HassClimateGetTemperature", ["climate.ecobee"])
    assert turn.text == "what is the temperature of the EcoBee"


@pytest.mark.parametrize(
    ("ecobee", "echo_dot"),
    [
        (-9.0, -20.0),  # the audio says the heard word better by more than the gap: a word the home lacks
        (-6.0, -7.0),  # two names nearly as likely: no margin, no guess
    ],
)
def test_a_name_the_audio_does_not_clearly_say_is_never_taken(
    assistant: Assistant, ecobee: float, echo_dot: float
) -> None:
    score = _Scores(
        {
            HEARD: -6.6,
            "what is the temperature of the ecobee": ecobee,
            "what is the temperature of the echo dot": echo_dot,
        }
    )
    assert assistant.heard_name(HEARD, REFUSED, score) is None
    turn = asyncio.run(assistant.handle_async(HEARD, speak=False, heard=True, score=score))
    assert (turn.parse.intent, turn.parse.reason) == (None, "there is no device called 'incubi'")


def test_a_name_no_template_holds_with_the_sentence_is_not_taken(assistant: Assistant) -> None:
    """The audio's evidence alone is not enough: the sentence with the name must be a command."""
    heard = "what is the incubi thinking about"
    refused = IntentResult(text=heard, reason="there is no device called 'incubi'")
    score = _Scores({heard: -6.6, "what is the ecobee thinking about": -5.0})
    assert assistant.heard_name(heard, refused, score) is None


def test_other_refusals_and_understood_text_are_not_weighed(assistant: Assistant) -> None:
    score = _Scores({})
    asked = IntentResult(text="turn on the light", reason="which light do you mean?")
    assert assistant.heard_name("turn on the light", asked, score) is None
    turn = asyncio.run(assistant.handle_async("what is the temperature of the EcoBee", speak=False, score=score))
    assert turn.parse.intent == "HassClimateGetTemperature"
    assert score.seen == []  # understood as heard: the audio is not asked
