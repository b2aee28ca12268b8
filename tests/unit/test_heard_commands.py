"""A command of the home a few letters from what was heard, weighed on the audio
(``Automaton.nearest``, ``NearCommands``, ``Assistant.heard_command``).

The engine's scorer is played by a function of the texts it is given (log-probabilities as a
Whisper forced decode gives them); the grammar, the parser, the home and the dialogue are real.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from edge_assistant import Assistant
from edge_assistant.assistant import COMMAND_GAP, COMMAND_MARGIN
from edge_assistant.config import Settings
from edge_assistant.events import IntentResult
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.dialogue import Dialogue, Question
from edge_assistant.nlu.names import slip_cost
from edge_assistant.nlu.parser import Parser
from edge_assistant.stt import SttSettings
from edge_assistant.stt.fsa import Automaton
from edge_assistant.stt.near import build_near_commands
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

HOME = """
areas:
  - {name: Office}
  - {name: Kitchen}
entities:
  - {name: Standing Light, id: light.standing, area: office}
  - {name: Kitchen Light, id: light.kitchen, area: kitchen}
  - {name: TV, id: media_player.tv, area: office}
"""


class _Scores:
    """A scorer that gives each text its log-probability from ``table`` (any case, end marks
    dropped), and keeps what it was asked."""

    def __init__(self, table: dict[str, float], default: float = -60.0) -> None:
        self.table, self.default = table, default
        self.seen: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[float]:
        self.seen.append(list(texts))
        return [self.table.get(text.lower().rstrip(".?!"), self.default) for text in texts]


@pytest.fixture(scope="module")
def parser(tmp_path_factory: pytest.TempPathFactory) -> Parser:
    """A parser on the home above; its stand-in model reads switching, and nothing else."""
    path = tmp_path_factory.mktemp("home") / "home.yaml"
    path.write_text(HOME)
    model = KeywordChoiceModel({"turn on": "turn on"}, probability=0.95)
    return Parser(load_catalog(), load_home(path), model)


@pytest.fixture
def assistant(parser: Parser) -> Assistant:
    return Assistant(parser)


def _refused(text: str, reason: str = "out of scope") -> IntentResult:
    return IntentResult(text=text, reason=reason)


def test_the_nearest_sentences_of_an_automaton_come_cheapest_first() -> None:
    # start -turn-> 1 -on/off-> 2 -standing-> 3 -light-> 4 (final); 1 -status-> 4
    automaton = Automaton(
        ({"turn": 1, "timer": 5}, {"on": 2, "off": 2}, {"standing": 3}, {"light": 4}, {}, {"status": 4}),
        frozenset({4}),
    )
    found = automaton.nearest(["turn", "on", "standlight"], 3, 6.0, slip_cost)
    assert found[0] == (slip_cost("standlight", "standinglight"), ("turn", "on", "standing", "light"))
    assert [s for _, s in found] == [("turn", "on", "standing", "light"), ("turn", "off", "standing", "light")]
    assert automaton.nearest(["time", "for", "status"], 2, 6.0, slip_cost)[0][1] == ("timer", "status")
    assert automaton.nearest(["time", "for", "status"], 2, 1.0, slip_cost) == []  # nothing within the cost
    assert automaton.nearest(["timer", "status"], 2, 6.0, slip_cost)[0] == (0.0, ("timer", "status"))


def test_near_commands_are_written_as_the_engine_writes(parser: Parser) -> None:
    near = build_near_commands(parser.catalog, parser.home)
    found = near.near("Turn on Standlight.", 4)
    assert found[0] == "Turn on Standing Light."  # the name as written, the capital and the end mark
    assert "Turn on Standlight." not in found
    assert near.near("Cancel all the tires", 4)[0].lower() in {"cancel all the timers", "cancel all timers"}
    assert any("30" in text for text in near.near("Set the Kitchen Light to thirty presents", 8))  # digits
    assert near.near("We should paint the fence next summer", 8) == []  # far from every command
    assert not any(text.lower() in {"yes", "no"} for text in near.near("Oh", 8))  # answers are no commands


def test_the_command_the_audio_says_nearly_as_well_is_taken(assistant: Assistant) -> None:
    heard = "Cancel all the tires"
    score = _Scores({heard.lower(): -8.0, "cancel all the timers": -10.5, "cancel the timer": -19.0})
    weighed = assistant.weigh_command(heard, _refused(heard), score)
    assert weighed is not None and weighed.taken
    assert weighed.candidate == "Cancel all the timers" and weighed.gap == pytest.approx(2.5)
    turn = asyncio.run(assistant.handle_async(heard, speak=False, heard=True, score=score))
    assert turn.parse.intent == "HassCancelAllTimers"
    assert turn.text == "Cancel all the timers"


def test_a_name_run_together_is_heard_as_the_name(assistant: Assistant) -> None:
    heard = "Turn on Standlight"
    score = _Scores({heard.lower(): -7.0, "turn on standing light": -10.9, "turn off standing light": -18.0})
    turn = asyncio.run(assistant.handle_async(heard, speak=False, heard=True, score=score))
    assert (turn.parse.intent, turn.parse.targets) == ("HassTurnOn", ["light.standing"])


@pytest.mark.parametrize(
    ("on", "off"),
    [
        (-8.0 - COMMAND_GAP - 0.5, -60.0),  # the audio says what was heard far better: no command
        (-10.0, -10.0 - COMMAND_MARGIN + 0.5),  # "on" and "off" nearly as likely: no margin, no guess
    ],
)
def test_a_command_the_audio_does_not_clearly_say_is_never_taken(assistant: Assistant, on: float, off: float) -> None:
    heard = "Turn un Standlight"
    score = _Scores({heard.lower(): -8.0, "turn on standing light": on, "turn off standing light": off})
    weighed = assistant.weigh_command(heard, _refused(heard), score)
    assert weighed is not None and not weighed.taken
    turn = asyncio.run(assistant.handle_async(heard, speak=False, heard=True, score=score))
    assert turn.parse.intent is None


def test_commands_that_mean_the_same_are_one_reading(assistant: Assistant) -> None:
    """ "cancel all timers" and "cancel all the timers" do the same: neither is the other's rival."""
    heard = "Cancel all the tires"
    score = _Scores({heard.lower(): -8.0, "cancel all the timers": -10.0, "cancel all timers": -10.4})
    weighed = assistant.weigh_command(heard, _refused(heard), score)
    assert weighed is not None and weighed.taken and weighed.lead is not None and weighed.lead > COMMAND_MARGIN


def test_what_is_not_weighed(assistant: Assistant) -> None:
    score = _Scores({})
    # A question about what was understood: the answer completes it.
    asked = assistant.parse("turn on the light")
    assert (asked.intent, asked.awaiting) == (None, "HassTurnOn")  # which light do you mean?
    assert assistant.weigh_command("turn on the light", asked, score) is None
    # A template matches it, and refuses it: heard as a command, and refused as one.
    refused = assistant.parse("turn on the lights in the garden")
    assert refused.intent is None and refused.reason
    assert assistant.weigh_command("turn on the lights in the garden", refused, score) is None
    # A name the home lacks is weighed by name (heard_name), not again here.
    unknown = _refused("turn on the incubi", "there is no device called 'incubi'")
    assert assistant.weigh_command("turn on the incubi", unknown, score) is None
    # Understood: nothing to weigh.
    done = IntentResult(text="turn on the tv", intent="HassTurnOn", targets=["media_player.tv"])
    assert assistant.weigh_command("turn on the tv", done, score) is None
    assert score.seen == []


def test_an_answer_to_a_question_is_taken_as_heard(assistant: Assistant) -> None:
    # "Which light do you mean?" waits for its answer.
    question = Question("HassTurnOn", {}, [], 0.95, "model", time.monotonic() + 30, "target")
    dialogue = Dialogue(question=question)
    heard = "Cancel all the tires"
    score = _Scores({heard.lower(): -8.0, "cancel all the timers": -8.5})
    asyncio.run(assistant.handle_async(heard, dialogue=dialogue, speak=False, heard=True, score=score))
    assert all(heard in texts for texts in score.seen) and not any("timers" in " ".join(t) for t in score.seen)


def test_near_commands_off(parser: Parser) -> None:
    settings = Settings().model_copy(update={"stt": SttSettings(near_commands=0)})
    assistant = Assistant(parser, settings=settings)
    heard = "Cancel all the tires"
    score = _Scores({heard.lower(): -8.0, "cancel all the timers": -8.5})
    assert assistant.weigh_command(heard, _refused(heard), score) is None
    assert score.seen == []


def test_a_command_the_audio_says_overrides_the_models_reading_of_a_mishearing(assistant: Assistant) -> None:
    """ "Turn on Standlite please": the model switches on... something; the audio says "turn off
    standing light" nearly as well, and far better than "turn on": the command of the home wins."""
    heard = "Turn un Standlight"
    model_read = IntentResult(text=heard, intent="HassTurnOn", targets=["light.standing"], source="model")
    score = _Scores({heard.lower(): -8.0, "turn off standing light": -9.0, "turn on standing light": -14.0})
    weighed = assistant.weigh_command(heard, model_read, score)
    assert weighed is not None and weighed.taken and weighed.candidate == "Turn off Standing Light"


def test_near_commands_that_do_what_the_model_read_are_not_weighed(assistant: Assistant) -> None:
    heard = "Turn on Standlight"
    model_read = IntentResult(text=heard, intent="HassTurnOn", targets=["light.standing"], source="model")
    score = _Scores({heard.lower(): -8.0, "turn on standing light": -9.0})
    near = [c.lower() for c in assistant.near_commands().near(heard, 8)]
    assert "turn on standing light" in near and "turn off standing light" in near
    weighed = assistant.weigh_command(heard, model_read, score)
    assert weighed is not None and weighed.candidate == "Turn on Standing Light"  # weighed: "off" is near too
    # A model reading with nothing near that does anything else: nothing to score.
    text = "it's way too dark in the kitchen right now"
    far = IntentResult(text=text, intent="HassTurnOn", targets=["light.kitchen"], source="model")
    assert assistant.weigh_command(text, far, score) is None
    assert all(text not in texts for texts in score.seen)


def test_a_bare_name_is_no_reading_of_a_sentence_that_said_more(assistant: Assistant) -> None:
    """ "New the TV" is a letter or three from "the TV", which a template reads as turning it on:
    a name alone is an answer, never what a longer sentence meant."""
    heard = "New the TV"
    score = _Scores({heard.lower(): -8.0, "the tv": -7.0, "tv": -7.0})
    weighed = assistant.weigh_command(heard, _refused(heard), score)
    assert weighed is None or weighed.candidate.lower() not in {"the tv", "tv"}


WARM_UP = """
import sys
from edge_assistant import Assistant
from edge_assistant.config import Settings
from edge_assistant.runtime import build_parser
from tests.support.mapped import resident_mb

assistant = Assistant(build_parser(Settings(), sys.argv[1], use_model=False), None, None, Settings())
assistant.warm_up()
before = resident_mb()
assistant.warm_up(heard=True)
print(resident_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and trims glibc's heap")
def test_warm_up_keeps_only_what_the_command_automaton_needs(example_home_path: Path) -> None:
    """Building the example home's command automaton frees tens of MB that glibc would keep
    resident for the process's life (77 MB held before); the warm-up gives them back."""
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP, str(example_home_path)], capture_output=True, text=True, check=True, timeout=120
    )
    assert float(done.stdout.strip().splitlines()[-1]) < 40, done.stdout
