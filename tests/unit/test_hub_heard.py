"""What the hub's ``asr`` answers from an engine's transcript and its alternatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from wyoming.info import Info

from edge_assistant.assistant import Assistant
from edge_assistant.events import Transcript
from edge_assistant.home import load_home
from edge_assistant.hub.asr import TranscriberPool
from edge_assistant.hub.server import Hub
from edge_assistant.hub.settings import WyomingSettings
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.testing import FakeTranscriber

pytestmark = pytest.mark.unit

NEAR_MISS = {"alternatives": ["Bause time", "Pause the timer"]}


@pytest.fixture
def hub(example_home_path: Path) -> Hub:
    """A hub on the example home, templates only (its engine is never started here)."""
    parser = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))
    return Hub(Assistant(parser), TranscriberPool(lambda: FakeTranscriber([]), 1), WyomingSettings(), Info())


def test_a_client_gets_the_alternative_the_templates_hold(hub: Hub) -> None:
    """The transcript sent to a client is what the hub would act on: the near miss's alternative."""
    dialogue = hub.assistant.new_dialogue()
    assert hub.command_text(Transcript("Bause the timer", extra=NEAR_MISS), dialogue) == "Pause the timer"
    assert hub.command_text(Transcript("turn on the kitchen light", extra=NEAR_MISS), dialogue) == (
        "turn on the kitchen light"
    )


def test_speech_refused_by_the_guards_is_empty_whatever_its_alternatives(hub: Hub) -> None:
    """A transcript outside the grammar (noise, a loop) gives an empty text, never an alternative."""
    refused = Transcript("Bause the timer", in_grammar=False, extra=NEAR_MISS)
    assert hub.command_text(refused, hub.assistant.new_dialogue()) == ""


def test_the_wake_phrase_is_kept_and_the_command_after_it_chosen(example_home_path: Path) -> None:
    """A hub with a wake phrase: the alternatives are compared after the phrase, and the phrase
    stays in front of the text the satellite gets (it checks for it)."""
    parser = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))
    pool = TranscriberPool(lambda: FakeTranscriber([]), 1)
    hub = Hub(Assistant(parser), pool, WyomingSettings(), Info(), wake_phrase="hey jarvis")
    heard = Transcript("Hey Jarvis bause the timer", extra={"alternatives": ["Hey Jarvis pause the timer"]})
    assert hub.command_text(heard, hub.assistant.new_dialogue()) == "hey jarvis pause the timer"


def test_a_lone_wake_phrase_heard_otherwise_goes_to_the_satellite_as_the_phrase(example_home_path: Path) -> None:
    """ "Hey there, Vis" alone: the audio says "hey jarvis" as well, so the satellite gets the phrase
    and waits for the command; a short utterance the audio does not say so stays as heard."""
    parser = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))
    pool = TranscriberPool(lambda: FakeTranscriber([]), 1)
    hub = Hub(Assistant(parser), pool, WyomingSettings(), Info(), wake_phrase="hey jarvis")

    def scorer(table: dict[str, float]) -> Callable[[Sequence[str]], list[float]]:
        return lambda texts: [table.get(text, -25.0) for text in texts]

    dialogue = hub.assistant.new_dialogue()
    phrase = Transcript("Hey there, Vis", score=scorer({"Hey there, Vis": -3.0, "Hey jarvis": -2.5}))
    assert hub.command_text(phrase, dialogue) == "hey jarvis"
    other = Transcript("Let's go", score=scorer({"Let's go": -2.0, "Hey jarvis": -14.0}))
    assert hub.command_text(other, dialogue) == "Let's go"


def test_a_satellite_s_room_is_here_for_its_commands(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    """``area`` in a client's context (a satellite's ``[satellite] area``) is its conversation's room:
    "turn off the lights" from the kitchen's satellite is the kitchen's lights; from a conversation
    without a room no template holds it (Home Assistant's need a room for it). An area the home
    lacks is logged and not used."""
    kitchen = hub.dialogue_for({"conversation_id": "sat-kitchen", "area": "KITCHEN"}, hub.assistant.new_dialogue())
    nowhere = hub.dialogue_for({"conversation_id": "sat-attic", "area": "attic"}, hub.assistant.new_dialogue())
    assert (kitchen.area, nowhere.area) == ("Kitchen", None)
    assert "'attic', which the home lacks" in caplog.text
    here = hub.assistant.parse("turn off the lights", kitchen)
    assert sorted(here.targets) == ["light.kitchen", "light.kitchen_counter"]
    assert hub.assistant.parse("turn off the lights", nowhere).intent is None
    # The same conversation keeps its room without saying it again.
    assert hub.dialogue_for({"conversation_id": "sat-kitchen"}, hub.assistant.new_dialogue()).area == "Kitchen"


def test_a_satellite_sends_its_room_with_each_utterance() -> None:
    """``[satellite] area`` goes into the context of what the satellite sends; none when unset."""
    from edge_assistant.satellite.client import HubClient

    assert HubClient("tcp://127.0.0.1:10800", name="k", area="kitchen").context["area"] == "kitchen"
    assert "area" not in HubClient("tcp://127.0.0.1:10800", name="k").context
