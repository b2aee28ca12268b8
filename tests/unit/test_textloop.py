"""TextLoop: text lines through the real template parser and a recording dispatcher."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.assistant import Assistant
from edge_assistant.events import ActionResult, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.textloop import TextLoop

pytestmark = pytest.mark.unit


class Recorder:
    """Dispatcher stand-in that records what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str]] = []

    async def dispatch(self, result: Any, utterance_id: str, dialogue: Any = None) -> list[ActionResult]:
        self.seen.append((result.intent, result.text))
        return [ActionResult(handler="rec", ok=result.intent is not None, reply="ok")]

    async def aclose(self) -> None:
        return None


@pytest.fixture(scope="module")
def parser(example_home_path: Path) -> Parser:
    return Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))


def test_every_line_is_parsed_dispatched_and_recorded(parser: Parser) -> None:
    """Commands and rejections both reach the dispatcher (it answers yes/no); bad UTF-8 is an error record."""
    stream = io.BytesIO(b"turn on the kitchen light\nyes\n\xff\xfe\n")
    records: list[UtteranceRecord] = []
    dispatcher = Recorder()
    asyncio.run(TextLoop(stream, Assistant(parser, dispatcher), on_utterance=records.append).run())
    assert dispatcher.seen == [("HassTurnOn", "turn on the kitchen light"), (None, "yes")]
    assert [r.parse.intent for r in records] == ["HassTurnOn", None, None]
    assert records[2].error is not None and "UTF-8" in records[2].error


def test_stop_while_waiting_for_a_line_returns_at_once(parser: Parser) -> None:
    """A quiet pipe does not hold up stop()."""
    read_fd, write_fd = os.pipe()

    async def scenario() -> float:
        with os.fdopen(read_fd, "rb") as stream:
            loop = TextLoop(stream, Assistant(parser))
            task = asyncio.ensure_future(loop.run())
            await asyncio.sleep(0.05)
            start = asyncio.get_running_loop().time()
            loop.stop()
            await asyncio.wait_for(task, timeout=2)
            took = asyncio.get_running_loop().time() - start
            os.write(write_fd, b"\n")  # let the abandoned reader thread finish
            os.close(write_fd)
            return took

    assert asyncio.run(scenario()) < 0.5


def test_a_question_for_a_missing_value_and_its_answer(example_home_path: Path) -> None:
    """ "adjust the study lamp" -> "What brightness or colour?" -> "red" -> the study lamp turns red."""
    from edge_assistant.config import Settings
    from edge_assistant.dispatch import build_dispatcher
    from edge_assistant.nlu.parser import ParserSettings
    from edge_assistant.testing import KeywordChoiceModel

    home = load_home(example_home_path)
    catalog = load_catalog([BUILTIN_CATALOG_DIR])
    asking = Parser(catalog, home, KeywordChoiceModel({"adjust": "set light"}), ParserSettings(follow_up_s=8.0))
    records: list[UtteranceRecord] = []
    stream = io.BytesIO(b"adjust the study lamp\nred\n")
    dispatcher = build_dispatcher(Settings(), home, catalog)
    asyncio.run(TextLoop(stream, Assistant(asking, dispatcher), on_utterance=records.append).run())
    asked, answered = records
    assert [a.reply for a in asked.actions] == ["What brightness or colour?"]
    assert (answered.parse.intent, answered.parse.targets, answered.parse.slots["color"]) == (
        "HassLightSet",
        ["light.study_lamp"],
        "red",
    )
    assert [a.ok for a in answered.actions] == [True]
