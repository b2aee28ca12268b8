"""The asyncio pipeline with a scripted transcriber and the real template parser."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_assistant.assistant import Assistant
from edge_assistant.audio import SAMPLE_RATE, AudioSettings
from edge_assistant.audio.sources import PcmSource, frames_of
from edge_assistant.events import ActionResult, IntentResult, Transcript, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.pipeline import Pipeline
from edge_assistant.testing import FakeTranscriber

pytestmark = pytest.mark.unit

KITCHEN_ON = Transcript("turn on the kitchen light")
PORCH_OFF = Transcript("turn off the porch light")


@pytest.fixture(scope="module")
def parser(example_home_path: Path) -> Parser:
    """The real parser on the example home, templates only."""
    return Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))


def _burst(ms: int = 600) -> bytes:
    t = np.arange(SAMPLE_RATE * ms // 1000) / SAMPLE_RATE
    return bytes((0.3 * 32767 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes())


def _quiet(ms: int) -> bytes:
    return b"\0\0" * (SAMPLE_RATE * ms // 1000)


def _speech(n: int) -> bytes:
    """``n`` bursts, each followed by enough silence to end an utterance."""
    return _quiet(400) + b"".join(_burst() + _quiet(900) for _ in range(n))


def _run(pipeline: Pipeline) -> None:
    asyncio.run(asyncio.wait_for(pipeline.run(), 30))


def _pipeline(parser: Parser, transcripts: list[Any], n: int, **kw: Any) -> tuple[Pipeline, list[UtteranceRecord]]:
    records: list[UtteranceRecord] = []
    assistant = Assistant(parser, kw.pop("dispatcher", None), kw.pop("speaker", None))
    pipeline = Pipeline(
        PcmSource(_speech(n)), FakeTranscriber(transcripts), assistant, on_utterance=records.append, **kw
    )
    return pipeline, records


class RecordingDispatcher:
    """Follows ``events.Dispatcher``; records what it was asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str]] = []

    async def dispatch(self, result: IntentResult, utterance_id: str, dialogue: Any = None) -> list[ActionResult]:
        self.calls.append((result.intent, utterance_id))
        return [ActionResult(handler="log", entity=t, ok=True, reply="done") for t in result.targets]

    async def aclose(self) -> None:
        return None


class MuteCheckingSpeaker:
    """Follows ``events.Speaker``; notes whether the pipeline's microphone was muted while speaking."""

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.said: list[tuple[str, bool]] = []

    async def say(self, text: str) -> None:
        assert self.pipeline is not None
        await asyncio.sleep(0.01)
        self.said.append((text, self.pipeline.muted))


def test_each_utterance_becomes_one_record_with_intent_and_timings(parser: Parser) -> None:
    """Two bursts -> two records with distinct ids, the parse of each transcript, and stage timings."""
    pipeline, records = _pipeline(parser, [KITCHEN_ON, PORCH_OFF], 2)
    _run(pipeline)
    assert [r.parse.intent for r in records] == ["HassTurnOn", "HassTurnOff"]
    assert records[0].parse.targets == ["light.kitchen"]
    assert len({r.id for r in records}) == 2
    assert {"stt", "nlu", "speech_end_to_intent", "audio"} <= set(records[0].timings_ms)


def test_all_audio_of_an_utterance_reaches_the_engine(parser: Parser) -> None:
    """The engine is fed the burst, the pre-roll and the trailing silence: nothing is lost."""
    transcriber = FakeTranscriber([KITCHEN_ON])
    pipeline = Pipeline(PcmSource(_speech(1)), transcriber, Assistant(parser))
    _run(pipeline)
    assert transcriber.fed[0] >= len(_burst()) + len(_quiet(400))


def test_off_grammar_transcript_gives_no_intent(parser: Parser) -> None:
    """A transcript the engine marked as outside the grammar is not parsed, even if it would match."""
    pipeline, records = _pipeline(parser, [Transcript("turn on the kitchen light", in_grammar=False)], 1)
    _run(pipeline)
    assert records[0].parse.intent is None
    assert "outside the grammar" in (records[0].parse.reason or "")


def test_failing_utterance_is_logged_and_the_loop_goes_on(parser: Parser, caplog: pytest.LogCaptureFixture) -> None:
    """An engine fault on utterance 1 becomes an error in its record; utterance 2 still works."""
    pipeline, records = _pipeline(parser, [RuntimeError("decoder exploded"), PORCH_OFF], 2)
    with caplog.at_level(logging.INFO, logger="edge_assistant.pipeline"):
        _run(pipeline)
    assert "decoder exploded" in (records[0].error or "")
    assert records[1].parse.intent == "HassTurnOff"
    assert any(records[0].id in m for m in caplog.messages)


def test_one_info_line_per_utterance(parser: Parser, caplog: pytest.LogCaptureFixture) -> None:
    """Each utterance is logged as exactly one INFO line with its id, intent and timings."""
    pipeline, records = _pipeline(parser, [KITCHEN_ON, PORCH_OFF], 2)
    with caplog.at_level(logging.INFO, logger="edge_assistant.pipeline"):
        _run(pipeline)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 2
    assert records[0].id in lines[0] and "HassTurnOn" in lines[0] and "timings_ms" in lines[0]


def test_dispatcher_actions_go_in_the_record_and_the_speaker_runs_muted(parser: Parser) -> None:
    """Actions from the dispatcher are kept; the reply is spoken while the microphone is muted."""
    dispatcher, speaker = RecordingDispatcher(), MuteCheckingSpeaker()
    pipeline, records = _pipeline(parser, [KITCHEN_ON], 1, dispatcher=dispatcher, speaker=speaker)
    speaker.pipeline = pipeline
    _run(pipeline)
    assert dispatcher.calls == [("HassTurnOn", records[0].id)]
    assert records[0].actions[0].entity == "light.kitchen"
    assert speaker.said == [("done.", True)]  # replies.summarize: one sentence per distinct reply
    assert pipeline.muted is False


def test_audio_is_dropped_while_muted(parser: Parser) -> None:
    """Frames that arrive while the assistant speaks never reach the engine."""
    transcriber = FakeTranscriber([KITCHEN_ON])
    pipeline = Pipeline(PcmSource(_speech(2)), transcriber, Assistant(parser))
    pipeline.muted = True
    _run(pipeline)
    assert transcriber.fed == []


class EndlessSource:
    """A microphone stand-in: bursts and silence forever, paced like real time (fast)."""

    name = "endless"

    async def frames(self) -> AsyncIterator[bytes]:
        while True:
            for frame in frames_of(_burst() + _quiet(900)):
                yield frame
                await asyncio.sleep(0.0005)


def test_stop_finishes_the_current_utterance_and_returns(parser: Parser) -> None:
    """``stop()`` after the first record makes ``run()`` return with that record complete."""
    records: list[UtteranceRecord] = []
    pipeline = Pipeline(
        EndlessSource(), FakeTranscriber([KITCHEN_ON] * 50), Assistant(parser), on_utterance=records.append
    )

    def on(record: UtteranceRecord) -> None:
        records.append(record)
        pipeline.stop()

    pipeline.on_utterance = on
    _run(pipeline)
    assert records[0].parse.intent == "HassTurnOn"
    assert len(records) <= 2


def test_swap_assistant_applies_to_the_next_utterance(parser: Parser, example_home_path: Path) -> None:
    """An assistant swapped in after utterance 1 handles utterance 2."""

    class Fixed:
        catalog, home = parser.catalog, parser.home

        def parse(self, text: str, dialogue: Any = None, min_confidence: float = 0.0, **_: Any) -> IntentResult:
            return IntentResult(text=text, intent="HassCancelTimer", confidence=1.0, source="template")

        def held(self, text: str) -> bool:
            return True

    records: list[UtteranceRecord] = []
    pipeline = Pipeline(PcmSource(_speech(2)), FakeTranscriber([KITCHEN_ON, KITCHEN_ON]), Assistant(parser))

    def on(record: UtteranceRecord) -> None:
        records.append(record)
        pipeline.swap_assistant(Assistant(Fixed()))  # type: ignore[arg-type]

    pipeline.on_utterance = on
    _run(pipeline)
    assert [r.parse.intent for r in records] == ["HassTurnOn", "HassCancelTimer"]


def test_wake_phrase_mode(parser: Parser) -> None:
    """With a wake phrase: a command after it runs, a command without it does not, and a lone
    wake phrase arms the next utterance."""
    script = [
        Transcript("hey jarvis turn on the kitchen light"),
        Transcript("turn off the porch light"),
        Transcript("hey jarvis"),
        Transcript("turn off the porch light"),
    ]
    settings = AudioSettings(mode="wake", wake_phrase="hey jarvis")
    pipeline, records = _pipeline(parser, script, 4, settings=settings)
    _run(pipeline)
    assert [r.parse.intent for r in records] == ["HassTurnOn", None, None, "HassTurnOff"]
    assert records[1].parse.reason == "no wake phrase"


def test_a_lone_wake_phrase_heard_otherwise_wakes_when_the_audio_says_it(parser: Parser) -> None:
    """ "Snowboy" alone in noise heard "There's no board": the engine's score of the phrase on the
    same audio wakes the assistant for the next utterance; with no score it does not."""

    def score(texts: Sequence[str]) -> list[float]:
        return [{"There's no board": -4.1, "snowboy": -1.0}.get(text, -30.0) for text in texts]

    settings = AudioSettings(mode="wake", wake_phrase="snowboy")
    for scored, intent in ((score, "HassTurnOff"), (None, None)):
        script = [Transcript("There's no board", score=scored), Transcript("turn off the porch light")]
        pipeline, records = _pipeline(parser, script, 2, settings=settings)
        _run(pipeline)
        assert records[1].parse.intent == intent
        assert records[0].parse.reason == ("wake phrase heard; waiting for the command" if scored else "no wake phrase")


def test_an_alternative_the_templates_hold_is_acted_on(parser: Parser) -> None:
    """An open engine's near miss with a command among its alternatives: the record keeps what
    the engine heard, the parse is of the alternative, after a wake phrase cut off as heard; with
    no wake phrase said, no alternative is acted on."""
    near_miss = {"alternatives": ["Turn of the porch lite", "Turn off the porch light"]}
    script = [
        Transcript("Turn of the porch lite", extra=near_miss),
        Transcript("hey jarvis bause the timer", extra={"alternatives": ["hey jarvis pause the timer"]}),
        Transcript("kill the lights", extra={"alternatives": ["turn off the kitchen light"]}),
    ]
    pipeline, records = _pipeline(parser, script[:1], 1)
    _run(pipeline)
    assert (records[0].transcript, records[0].parse.text) == ("Turn of the porch lite", "Turn off the porch light")
    assert (records[0].parse.intent, records[0].parse.targets) == ("HassTurnOff", ["light.porch"])
    settings = AudioSettings(mode="wake", wake_phrase="hey jarvis")
    pipeline, records = _pipeline(parser, script[1:], 2, settings=settings)
    _run(pipeline)
    assert [(r.parse.text, r.parse.intent) for r in records] == [
        ("pause the timer", "HassPauseTimer"),
        ("kill the lights", None),
    ]
    assert records[1].parse.reason == "no wake phrase"


@pytest.mark.parametrize(("sure", "intent"), [(0.6, None), (0.9, "HassTurnOff")])
def test_heard_text_acts_on_the_model_only_when_it_is_sure(example_home_path: Path, sure: float, intent: str) -> None:
    """What the pipeline hears is parsed with the assistant's ``heard_floor`` (0.8 by default):
    a model pick of 0.6 that typed text would act on is "not sure" when heard."""
    from edge_assistant.testing import KeywordChoiceModel

    model = KeywordChoiceModel({"kill": "turn off"}, probability=sure)
    heard = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path), model)
    pipeline, records = _pipeline(heard, [Transcript("kill the porch light")], 1)
    _run(pipeline)
    assert records[0].parse.intent == intent
    assert intent is not None or records[0].parse.reason == "not sure"


def test_push_to_talk_uses_the_button_not_the_level(parser: Parser) -> None:
    """In push-to-talk mode an utterance is exactly the time the button is held, silence included."""

    class ButtonSource:
        name = "ptt"

        def __init__(self) -> None:
            self.pipeline: Pipeline | None = None

        async def frames(self) -> AsyncIterator[bytes]:
            assert self.pipeline is not None
            for i, frame in enumerate(frames_of(_quiet(3000))):
                if i == 10:
                    self.pipeline.press()
                if i == 60:
                    self.pipeline.release()
                yield frame

    source = ButtonSource()
    transcriber = FakeTranscriber([KITCHEN_ON])
    records: list[UtteranceRecord] = []
    settings = AudioSettings(mode="push_to_talk")
    pipeline = Pipeline(source, transcriber, Assistant(parser), settings=settings, on_utterance=records.append)
    source.pipeline = pipeline
    _run(pipeline)
    assert len(records) == 1
    assert transcriber.fed == [50 * 640]


def test_nothing_heard_gives_no_record(parser: Parser) -> None:
    """Silence produces no utterance at all."""
    records: list[UtteranceRecord] = []
    _run(Pipeline(PcmSource(_quiet(3000)), FakeTranscriber([]), Assistant(parser), on_utterance=records.append))
    assert records == []


def test_stop_while_waiting_for_audio_returns_at_once(parser: Parser) -> None:
    """A source that never delivers another frame does not hold up stop()."""

    class SilentForever:
        name = "quiet"

        async def frames(self) -> AsyncIterator[bytes]:
            await asyncio.Event().wait()
            yield b""

    async def scenario() -> float:
        pipeline = Pipeline(SilentForever(), FakeTranscriber([]), Assistant(parser))
        task = asyncio.ensure_future(pipeline.run())
        await asyncio.sleep(0.05)
        start = asyncio.get_running_loop().time()
        pipeline.stop()
        await asyncio.wait_for(task, timeout=2)
        return asyncio.get_running_loop().time() - start

    assert asyncio.run(scenario()) < 0.5


def test_record_dir_keeps_each_utterance_as_a_wav(parser: Parser, tmp_path: Path) -> None:
    """With a record dir, each utterance's audio is written as <id>.wav, 16 kHz mono, as long as it was."""
    import wave

    pipeline, records = _pipeline(parser, [KITCHEN_ON, PORCH_OFF], 2)
    pipeline.record_dir = tmp_path
    _run(pipeline)
    for record in records:
        with wave.open(str(tmp_path / f"{record.id}.wav"), "rb") as kept:
            assert (kept.getframerate(), kept.getnchannels()) == (SAMPLE_RATE, 1)
            assert kept.getnframes() * 1000 // SAMPLE_RATE == record.timings_ms["audio"]
