"""Several commands in one utterance: the parse, the acts and the one reply (issue 17 §1).

Every test runs on a home it writes itself; the parser is templates-only or has the keyword
stand-in for the model.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from edge_assistant import Assistant
from edge_assistant.cli import main
from edge_assistant.events import IntentResult, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel
from edge_assistant.textloop import TextLoop

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {name: Hallway}
  - {name: Hall}
  - {name: Study}
  - {name: Kitchen}
  - {name: Garden}
  - {name: Entrance}
entities:
  - {name: Hallway Light, id: light.hallway, area: Hallway}
  - {name: Porch Light, id: light.porch, area: Entrance}
  - {name: Patio Light, id: light.patio, area: Garden}
  - {name: Desk Lamp, id: light.desk_lamp, area: Study}
  - {name: Salt and Pepper Lamp, id: light.salt_and_pepper, area: Kitchen}
  - {name: Pepper Lamp, id: light.pepper, area: Kitchen}
  - {name: Study Blinds, id: cover.study_blinds, area: Study, device_class: blind}
  - {name: Hall Blinds, id: cover.hall_blinds, area: Hall, device_class: blind}
  - {name: Kettle, id: switch.kettle, area: Kitchen}
  - {name: Back Gate, id: lock.back_gate, area: Garden}
  - {name: Front Door, id: lock.front_door, area: Entrance}
  - {name: Garage Door, id: cover.garage_door, area: Garden, device_class: garage}
"""
# A custom intent whose value holds a joiner: "black and white" is one value, not two commands.
EFFECTS = """
intents:
  LightEffect:
    label: light effect
    description: set an effect on lights
    domains: [light]
    require_one_of: [effect]
    slots:
      name: {type: entity}
      area: {type: area}
      effect: {type: enum, values: [black and white, sepia, rainbow]}
    sentences:
      - templates: ["set [the] (lights|{name}) [in [the] {area}] to {effect}"]
"""
# A custom intent whose sentence says "it": the words as said are a command of their own.
REPLAY = """
intents:
  ReplayTrack:
    label: replay the track
    description: play the current track again from its start
    sentences:
      - templates: ["play it again"]
"""
# Locking the back gate is allowed here; the front door and the garage door keep the default (confirm).
CONFIG = """
[nlu]
home = "{home}"
catalog = ["{effects}"]
[handlers.log]
path = "{log}"
[policy]
entities = {{"lock.back_gate" = "allow"}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The home, the effect catalog and a config that logs every action to a file."""
    root = tmp_path_factory.mktemp("multi")
    home, effects, config, log = (root / n for n in ("home.yaml", "effects.yaml", "config.toml", "actions.jsonl"))
    home.write_text(HOME, encoding="utf-8")
    effects.write_text(EFFECTS, encoding="utf-8")
    config.write_text(CONFIG.format(home=home, effects=effects, log=log), encoding="utf-8")
    return {"home": home, "effects": effects, "config": config, "log": log}


@pytest.fixture(scope="module")
def parser(files: dict[str, Path]) -> Parser:
    """Templates first, the keyword stand-in for everything else."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, files["effects"]])
    model = KeywordChoiceModel({"switch": "turn on", "weather": "none"})
    return Parser(catalog, load_home(files["home"]), model, ParserSettings())


def _commands(result: IntentResult) -> list[tuple[str | None, list[str]]]:
    return [(c.intent, c.targets) for c in result.commands]


def test_two_commands_are_listed_in_the_order_spoken(parser: Parser) -> None:
    """Each command is a full parse; the top level is the first command's, with the whole text."""
    result = parser.parse("switch off the hallway light and lock the back gate")
    assert _commands(result) == [("HassTurnOff", ["light.hallway"]), ("HassTurnOn", ["lock.back_gate"])]
    assert [c.text for c in result.commands] == ["switch off the hallway light", "lock the back gate"]
    assert (result.text, result.intent, result.targets) == (
        "switch off the hallway light and lock the back gate",
        "HassTurnOff",
        ["light.hallway"],
    )


def test_three_commands_with_a_comma_and_then(parser: Parser) -> None:
    """A comma, "and then" and "after that" split too."""
    result = parser.parse("turn off the hallway light, open the study blinds and then turn on the kettle")
    assert _commands(result) == [
        ("HassTurnOff", ["light.hallway"]),
        ("HassTurnOn", ["cover.study_blinds"]),
        ("HassTurnOn", ["switch.kettle"]),
    ]


def test_one_intent_with_two_names(parser: Parser) -> None:
    """ "and the patio light" is the same command for another device: one intent, both targets."""
    result = parser.parse("turn off the porch light and the patio light")
    assert (result.commands, result.intent, result.targets) == ([], "HassTurnOff", ["light.porch", "light.patio"])
    assert result.slots["name"] == ["Porch Light", "Patio Light"]


def test_a_device_word_carries_over_to_a_bare_place(parser: Parser) -> None:
    """ "open the study and the hall blinds" opens the blinds of both rooms, nothing else of the study."""
    result = parser.parse("open the study and the hall blinds")
    assert (result.commands, result.intent, result.targets) == (
        [],
        "HassTurnOn",
        ["cover.study_blinds", "cover.hall_blinds"],
    )


def test_a_name_with_and_in_it_is_not_split(parser: Parser) -> None:
    """The salt and pepper lamp is one device, on the template path and the model path alike."""
    sources = []
    for text in ("turn on the salt and pepper lamp", "would you mind switching the salt and pepper lamp on"):
        result = parser.parse(text)
        assert (result.commands, result.intent, result.targets) == ([], "HassTurnOn", ["light.salt_and_pepper"])
        sources.append(result.source)
    assert sources == ["template", "model"]


def test_a_value_with_and_in_it_is_not_split(parser: Parser) -> None:
    """ "black and white" is one value of the effect: one command."""
    result = parser.parse("set the lights in the kitchen to black and white")
    assert (result.commands, result.intent, result.slots["effect"]) == ([], "LightEffect", "black and white")


def test_an_amount_with_and_in_it_is_not_split(parser: Parser) -> None:
    """ "five and a half minutes" is one length."""
    result = parser.parse("set a timer for five and a half minutes")
    assert (result.commands, result.intent, result.slots) == ([], "HassStartTimer", {"minutes": 5, "seconds": 30})


def test_it_refers_to_the_device_of_the_command_before(parser: Parser) -> None:
    """ "turn on the kettle and then turn it off" acts on the kettle twice."""
    result = parser.parse("turn on the kettle and then turn it off")
    assert _commands(result) == [("HassTurnOn", ["switch.kettle"]), ("HassTurnOff", ["switch.kettle"])]


def test_a_part_a_template_holds_as_said_is_taken_as_said(files: dict[str, Path], tmp_path: Path) -> None:
    """ "and play it again": a template of the catalog holds the words with "it", so "it" is not
    the kettle ("play the kettle again" is no command); a part whose "it" makes no command as
    said still takes the device before."""
    replay = tmp_path / "replay.yaml"
    replay.write_text(REPLAY, encoding="utf-8")
    catalog = load_catalog([BUILTIN_CATALOG_DIR, replay])
    parser = Parser(catalog, load_home(files["home"]), KeywordChoiceModel({}), ParserSettings())
    result = parser.parse("turn on the kettle and then play it again")
    assert _commands(result) == [("HassTurnOn", ["switch.kettle"]), ("ReplayTrack", [])]
    result = parser.parse("open the garage door and then close it")
    assert _commands(result) == [("HassTurnOn", ["cover.garage_door"]), ("HassTurnOff", ["cover.garage_door"])]


def test_a_questions_it_is_no_device(parser: Parser) -> None:
    """A pronoun after "is", "what", "does" ... is a question's subject: the part goes to the
    model as said ("what time is it real quick"), not as "what time is the kettle real quick",
    which the model read as the kettle's state."""
    result = parser.parse("turn on the kettle and after that what time is it")
    assert _commands(result) == [("HassTurnOn", ["switch.kettle"]), ("HassGetCurrentTime", [])]
    parts = parser._splitter.split("turn off the kettle right away and what time is it real quick")
    assert [p.sentence for p in parts] == ["turn off the kettle right away", "what time is it real quick"]
    parts = parser._splitter.split("stop the kettle and is it raining")
    assert parts[1].sentence == "is it raining"
    # "switch" is a kind word too, but said as the verb it names no device: "it" is the kettle.
    parts = parser._splitter.split("turn on the kettle and then switch it off")
    assert parts[1].sentence == "switch the kettle off"


def test_the_parts_for_the_model_are_asked_about_together(files: dict[str, Path]) -> None:
    """Parts no template holds go to the model in one batch (``choose_many``), each asked once;
    a part a template holds is never asked; the commands are those of the parts asked alone."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, files["effects"]])
    model = KeywordChoiceModel({"switch": "turn on", "wake": "turn on", "weather": "none"})
    parser = Parser(catalog, load_home(files["home"]), model, ParserSettings())
    text = "switch the kettle on right away and wake the desk lamp up, then lock the back gate"
    result = parser.parse(text)
    assert len(model.batches) == 1 and len(model.batches[0]) == 2
    assert "kettle" in model.batches[0][0] and "desk lamp" in model.batches[0][1]
    assert model.calls == []  # nothing asked again one by one
    assert _commands(result) == [
        ("HassTurnOn", ["switch.kettle"]),
        ("HassTurnOn", ["light.desk_lamp"]),
        ("HassTurnOn", ["lock.back_gate"]),
    ]
    alone = [parser.parse(part).intent for part in ("switch the kettle on right away", "wake the desk lamp up")]
    assert alone == ["HassTurnOn", "HassTurnOn"] and len(model.batches) == 1
    parser.parse("turn off the porch light and switch the kettle on right away")  # one part for the model
    assert len(model.batches) == 1


def test_one_command_may_ask_and_the_others_go_ahead(parser: Parser) -> None:
    """The command that lacks its value asks, wherever it was said, and the others act; of two that
    ask only the last keeps its question (the earlier one's would never be answered)."""
    first = parser.parse("adjust the desk lamp and turn on the kettle")
    last = parser.parse("turn on the kettle and adjust the desk lamp")
    both = parser.parse("adjust the desk lamp and adjust the desk lamp")
    assert [(c.intent, c.awaiting) for c in first.commands] == [(None, "HassLightSet"), ("HassTurnOn", None)]
    assert [(c.intent, c.awaiting) for c in last.commands] == [("HassTurnOn", None), (None, "HassLightSet")]
    assert [c.awaiting for c in both.commands] == [None, "HassLightSet"]
    assert both.commands[0].reason is not None and both.commands[0].reason.startswith("one question at a time")


def test_the_last_commands_question_is_answered_in_the_next_turn(files: dict[str, Path]) -> None:
    """ "... and adjust the desk lamp" asks; "red" in the same conversation completes that command."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, files["effects"]])
    asking = Parser(catalog, load_home(files["home"]), None, ParserSettings(follow_up_s=8.0))
    dialogue = Dialogue()
    asked = asking.parse("turn on the kettle and adjust the desk lamp", dialogue)
    answered = asking.parse("red", dialogue)
    assert [c.awaiting for c in asked.commands] == [None, "HassLightSet"]
    assert (answered.intent, answered.targets, answered.slots["color"]) == ("HassLightSet", ["light.desk_lamp"], "red")
    asked = asking.parse("adjust the desk lamp and turn on the kettle", dialogue)  # the question said first
    answered = asking.parse("red", dialogue)
    assert [c.awaiting for c in asked.commands] == ["HassLightSet", None]
    assert (answered.intent, answered.targets, answered.slots["color"]) == ("HassLightSet", ["light.desk_lamp"], "red")


@pytest.fixture
def assistant(files: dict[str, Path]) -> Assistant:
    """The real assistant on the test home, templates only, its log handler writing to a file."""
    files["log"].write_text("", encoding="utf-8")
    return Assistant.from_config(files["config"], use_model=False)


def _logged(files: dict[str, Path]) -> list[tuple[str, list[str]]]:
    lines = files["log"].read_text(encoding="utf-8").splitlines()
    return [(row["intent"], row["targets"]) for row in map(json.loads, lines)]


def test_each_command_is_acted_on_with_one_reply(assistant: Assistant, files: dict[str, Path]) -> None:
    """Both commands reach the handler in order; the reply covers both in one sentence."""
    with assistant:
        turn = assistant.handle("switch off the hallway light and lock the back gate")
    assert turn.reply == "Turned off the hallway light and locked the back gate."
    assert [a.status for a in turn.actions] == ["done", "done"] and turn.handled
    assert _logged(files) == [("HassTurnOff", ["light.hallway"]), ("HassTurnOn", ["lock.back_gate"])]


def test_one_command_for_two_names_acts_on_both(assistant: Assistant, files: dict[str, Path]) -> None:
    """The list of names passes the dispatcher's schema check; the reply names both devices."""
    with assistant:
        turn = assistant.handle("turn off the porch light and the patio light")
    assert turn.reply == "Turned off the porch light and the patio light."
    assert _logged(files) == [("HassTurnOff", ["light.porch", "light.patio"])]


def test_partial_understanding_acts_and_says_what_it_could_not_do(assistant: Assistant, files: dict[str, Path]) -> None:
    """The lamp goes on; the reply says why the weather could not be told (this home has no weather entity)."""
    with assistant:
        turn = assistant.handle("turn on the desk lamp and tell me the weather")
    assert turn.reply == "Turned on the desk lamp. Sorry, there is no weather."
    assert [a.status for a in turn.actions] == ["done", "rejected"]
    assert _logged(files) == [("HassTurnOn", ["light.desk_lamp"])]


def test_a_confirmation_holds_only_its_own_command(assistant: Assistant, files: dict[str, Path]) -> None:
    """The light goes off at once; unlocking waits for the yes of the next turn."""
    with assistant:
        asked = assistant.handle("turn off the hallway light and unlock the front door")
        before = _logged(files)
        done = assistant.handle("yes")
    assert asked.reply == "Turned off the hallway light. Are you sure you want to unlock the front door?"
    assert [a.status for a in asked.actions] == ["done", "confirm"]
    assert before == [("HassTurnOff", ["light.hallway"])]
    assert [a.status for a in done.actions] == ["done"]
    assert _logged(files)[1:] == [("HassTurnOff", ["lock.front_door"])]


def test_two_confirmations_are_one_question_and_one_yes(assistant: Assistant, files: dict[str, Path]) -> None:
    """ "unlock the front door and open the garage door": asked once, one yes runs both."""
    with assistant:
        asked = assistant.handle("unlock the front door and open the garage door")
        done = assistant.handle("yes")
    assert asked.reply == "Are you sure you want to unlock the front door and open the garage door?"
    assert [a.status for a in done.actions] == ["done", "done"]
    assert _logged(files) == [("HassTurnOff", ["lock.front_door"]), ("HassTurnOn", ["cover.garage_door"])]


SINGLE_KEYS = ["text", "intent", "slots", "targets", "confidence", "source", "latency_ms", "reason", "awaiting"]


def test_the_json_of_a_single_command_is_unchanged(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`parse` prints a single command with exactly the keys it always had; several add ``commands``."""
    args = ["parse", "--config", str(files["config"]), "--templates-only"]
    assert main([*args, "turn off the porch light"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert main([*args, "turn off the porch light and lock the back gate"]) == 0
    several = json.loads(capsys.readouterr().out)
    assert list(single) == SINGLE_KEYS
    assert list(several) == [*SINGLE_KEYS, "commands"]
    assert [list(c) for c in several["commands"]] == [SINGLE_KEYS, SINGLE_KEYS]


def test_the_run_text_record_lists_every_command_and_action(assistant: Assistant) -> None:
    """`run --text` (TextLoop) records the parse with its commands and the actions of both, in order."""
    records: list[UtteranceRecord] = []
    stream = io.BytesIO(b"turn on the kettle then open the study blinds\n")
    asyncio.run(TextLoop(stream, assistant, on_utterance=records.append).run())
    row = records[0].model_dump(mode="json")
    assert [(c["intent"], c["targets"]) for c in row["parse"]["commands"]] == [
        ("HassTurnOn", ["switch.kettle"]),
        ("HassTurnOn", ["cover.study_blinds"]),
    ]
    assert [(a["status"], a["reply"]) for a in row["actions"]] == [
        ("done", "Turned on the kettle"),
        ("done", "Opened the study blinds"),
    ]
