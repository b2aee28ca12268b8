"""The assistant core: one turn from text to parse, actions and reply, and conversations kept apart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from edge_assistant import Assistant, Turn

pytestmark = pytest.mark.unit


def _assistant(tmp_path: Path, example_home_path: Path) -> tuple[Assistant, Path]:
    """The real assistant on the example home, templates only, its log handler writing to a file."""
    log = tmp_path / "actions.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f'[nlu]\nhome = "{example_home_path}"\n[handlers.log]\npath = "{log}"\n', encoding="utf-8")
    return Assistant.from_config(config, use_model=False), log


def test_a_turn_has_the_parse_the_actions_and_the_reply(tmp_path: Path, example_home_path: Path) -> None:
    """ "turn off the kitchen lights" → HassTurnOff on light.kitchen, done by the log handler, one reply."""
    assistant, log = _assistant(tmp_path, example_home_path)
    with assistant:
        turn = assistant.handle("turn off the kitchen lights")
    assert (turn.parse.intent, turn.parse.targets) == ("HassTurnOff", ["light.kitchen"])
    assert [(a.handler, a.status) for a in turn.actions] == [("log", "done")]
    assert turn.reply == "Turned off the kitchen light."
    assert turn.handled and set(turn.timings_ms) == {"nlu", "dispatch"}
    written = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(w["intent"], w["targets"]) for w in written] == [("HassTurnOff", ["light.kitchen"])]


def test_a_confirmation_is_answered_across_two_turns(tmp_path: Path, example_home_path: Path) -> None:
    """Unlocking asks first; the "yes" of the next ``handle`` call runs the held command."""
    assistant, log = _assistant(tmp_path, example_home_path)
    with assistant:
        asked = assistant.handle("unlock the front door")
        assert not log.exists() or log.read_text(encoding="utf-8") == ""
        done = assistant.handle("yes")
    assert (asked.reply, asked.handled) == ("Are you sure you want to unlock the front door?", True)
    assert [a.status for a in asked.actions] == ["confirm"]
    assert [(a.status, a.entity) for a in done.actions] == [("done", None)]
    assert json.loads(log.read_text(encoding="utf-8"))["targets"] == ["lock.front_door"]


def test_conversations_keep_their_own_confirmation(tmp_path: Path, example_home_path: Path) -> None:
    """A "yes" in another conversation (another satellite) does not unlock the door asked about here."""
    assistant, log = _assistant(tmp_path, example_home_path)
    kitchen, hall = assistant.new_dialogue(), assistant.new_dialogue()
    with assistant:
        assistant.handle("unlock the front door", dialogue=kitchen)
        stranger = assistant.handle("yes", dialogue=hall)
        owner = assistant.handle("yes", dialogue=kitchen)
    assert not stranger.handled and [a.status for a in stranger.actions] != ["done"]
    assert [a.status for a in owner.actions] == ["done"]
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1


def test_a_question_for_a_value_is_answered_in_the_next_turn(tmp_path: Path, example_home_path: Path) -> None:
    """ "adjust the study lamp" asks; "red" in the same conversation completes the command."""
    assistant, _ = _assistant(tmp_path, example_home_path)
    with assistant:
        asked = assistant.handle("adjust the study lamp")
        answered = assistant.handle("red")
    assert (asked.parse.awaiting, asked.reply, asked.handled) == ("HassLightSet", "What brightness or colour?", True)
    assert (answered.parse.intent, answered.parse.slots["color"]) == ("HassLightSet", "red")


def test_nothing_understood_is_not_handled(tmp_path: Path, example_home_path: Path) -> None:
    """An off-topic sentence has no intent, a reason, and a turn that says it was not handled."""
    assistant, _ = _assistant(tmp_path, example_home_path)
    with assistant:
        turn = assistant.handle("what a lovely day it has been")
    assert (turn.parse.intent, turn.handled) == (None, False)
    assert turn.parse.reason


def test_the_async_twin_serves_a_running_loop(tmp_path: Path, example_home_path: Path) -> None:
    """``handle_async`` runs a turn inside the caller's event loop (the pipeline, a server)."""
    assistant, _ = _assistant(tmp_path, example_home_path)

    async def scenario() -> Turn:
        try:
            return await assistant.handle_async("turn on the porch light", speak=False)
        finally:
            await assistant.aclose()

    turn = asyncio.run(scenario())
    assert (turn.parse.intent, turn.to_json()["actions"][0]["status"]) == ("HassTurnOn", "done")


@pytest.mark.parametrize(
    ("heard", "alternatives", "chosen"),
    [
        # The likeliest is a near miss; one nearly as likely is a command of the home.
        ("Bause the timer", ["Bause time", "Pause the timer"], "Pause the timer"),
        ("Turn on the kitchen lights", ["Turn off the kitchen lights"], "Turn on the kitchen lights"),  # held
        ("Kill the lights in the study", ["Kill the light's in the study"], "Kill the lights in the study"),  # none
        # A template sentence that names no device of this home is no command: it is not held.
        ("Turn on the garden late", ["Turn on the garden light"], "Turn on the garden late"),
        # An alternative never drops a place or device of the home that was heard: the garage has no
        # lights, and "in the house" (Whisper's fourth guess for a real recording) is another command.
        (
            "Turn off all of the lights in the Garage",
            ["Turn off all of the lights in the house"],
            "Turn off all of the lights in the Garage",
        ),
        ("Turn on the Study Lamb", ["Turn on the Study Lamp"], "Turn on the Study Lamp"),  # "study" is kept
    ],
)
def test_the_alternative_a_template_holds_stands_in_for_a_near_miss(
    tmp_path: Path, example_home_path: Path, heard: str, alternatives: list[str], chosen: str
) -> None:
    """``choose_heard``: the transcript, unless no template holds it and one holds an alternative."""
    assistant, _ = _assistant(tmp_path, example_home_path)
    with assistant:
        assert assistant.choose_heard(heard, alternatives) == chosen


@pytest.mark.parametrize(
    ("first", "answer"),
    [("set the brightness of the kitchen light", "fifty percent"), ("unlock the front door", "yes")],
)
def test_an_open_question_takes_the_transcript_as_heard(
    tmp_path: Path, example_home_path: Path, first: str, answer: str
) -> None:
    """While "What brightness or colour?" or "Are you sure?" waits, the answer is what was heard,
    never an alternative that is a command of its own."""
    assistant, _ = _assistant(tmp_path, example_home_path)
    with assistant:
        assistant.handle(first)
        assert assistant.dialogue.waiting()
        assert assistant.choose_heard(answer, ["pause the timer"]) == answer


@pytest.mark.parametrize(
    ("sure", "heard", "intent"), [(0.6, False, "HassTurnOff"), (0.6, True, None), (0.9, True, "HassTurnOff")]
)
def test_heard_speech_needs_a_surer_model(
    example_home_path: Path, sure: float, heard: bool, intent: str | None
) -> None:
    """A sentence no template holds acts on a model pick of 0.6 when typed, not when heard: a
    misheard sentence is often nonsense the model still maps to an intent (``heard_floor``)."""
    from edge_assistant.home import load_home
    from edge_assistant.nlu.catalog import load_catalog
    from edge_assistant.nlu.parser import Parser
    from edge_assistant.testing import KeywordChoiceModel

    model = KeywordChoiceModel({"kill": "turn off"}, probability=sure)
    assistant = Assistant(Parser(load_catalog(), load_home(example_home_path), model))
    assert assistant.heard_floor == 0.8  # [stt] min_model_confidence's default
    with assistant:
        turn = assistant.handle("kill the porch light", heard=heard, speak=False)
    assert turn.parse.intent == intent
    assert intent is not None or turn.parse.reason == "not sure"


@pytest.mark.parametrize(
    ("heard", "hypotheses", "unsure"),
    [
        # Whisper at 12 dB on a real "set temperature to 22.5 degrees": four readings of "25".
        ("Set the 15.5 degrees", ["Set the 15.5 degrees", *["Set to 25 degrees"] * 4, "Set the volume"], {15.5}),
        ("Set it to 22.5 degrees", ["Set it to 22.5 degrees", "Set to 22.5 degrees"], set()),  # they agree
        ("Set it to 21 degrees", ["Set it to 21 degrees", "Set it to 20 degrees", "Set to 21 degrees"], set()),  # most
        ("Set a timer for 5 minutes", ["Set a timer for five minutes", "Set a time"], set()),  # words are numbers
        ("Turn on the lamp", ["Turn on lamp 2"], set()),  # no number was said
        # espeak, clean: the beam's third reading said the sentence twice, with "90" first.
        (
            "Set the Living Room Thermostat to 19 degrees",
            [
                "Set the Living Room Thermostat to 19 degrees",
                "Set the Living Room Thermostat to 90 degrees",
                "Set the Living Room Thermostat to 90 degrees Set the Living Room Thermostat to 19 degrees",
            ],
            set(),
        ),
        ("Set it to 19 degrees", ["Set it to 19 degrees", "Set it to 90 degrees", "Set it to 90 degrees"], {19}),
        ("Set it to 2", ["Set it to 2", "Set it to 25 degrees", "Set it to 25"], {2}),  # words, not letters
    ],
)
def test_a_number_the_other_hypotheses_hear_otherwise_is_unsure(
    heard: str, hypotheses: list[str], unsure: set[float]
) -> None:
    """``unsure_numbers``: the numbers of the text when another reading of the audio has other numbers."""
    from edge_assistant.nlu.normalize import unsure_numbers

    assert unsure_numbers(heard, hypotheses) == unsure


def test_an_unsure_value_is_asked_for_and_the_answer_acts(tmp_path: Path, example_home_path: Path) -> None:
    """Whisper heard "15.5" where most of its readings heard "25": the thermostat is set to neither;
    the value is asked for and the answer sets it. Readings that agree act at once."""
    assistant, log = _assistant(tmp_path, example_home_path)
    heard = "set the study thermostat to 15.5 degrees"
    with assistant:
        asked = asyncio.run(
            assistant.handle_async(
                heard, heard=True, hypotheses=[heard, *["set the study thermostat to 25 degrees"] * 2]
            )
        )
        answered = asyncio.run(assistant.handle_async("22.5 degrees", heard=True))
        sure = asyncio.run(
            assistant.handle_async(heard, dialogue=assistant.new_dialogue(), heard=True, hypotheses=[heard])
        )
    assert (asked.parse.intent, asked.parse.awaiting, asked.reply) == (
        None,
        "HassClimateSetTemperature",
        "What temperature?",
    )
    assert (answered.parse.intent, answered.parse.slots.get("temperature")) == ("HassClimateSetTemperature", 22.5)
    assert (sure.parse.intent, sure.parse.slots.get("temperature")) == ("HassClimateSetTemperature", 15.5)
    written = [json.loads(line)["slots"]["temperature"] for line in log.read_text(encoding="utf-8").splitlines()]
    assert written == [22.5, 15.5]
