"""``[audio] noise_suppression`` with the real pocketsphinx engine on espeak-ng speech."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_assistant.assistant import Assistant
from edge_assistant.audio import SAMPLE_RATE, AudioSettings
from edge_assistant.audio.sources import PcmSource
from edge_assistant.events import UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.pipeline import Pipeline
from edge_assistant.stt.grammar import build_command_grammar
from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber
from tests.support.synth import espeak, mix_at_snr, pink_noise, silence

pytestmark = pytest.mark.model

COMMANDS = ["turn on the kitchen light", "lock the front door", "what is the temperature in the study"]


@pytest.fixture(scope="module")
def parts(example_home_path: Path) -> tuple[Parser, PocketsphinxTranscriber]:
    """The template parser and pocketsphinx in grammar mode, for the example home."""
    catalog, home = load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path)
    return Parser(catalog, home), PocketsphinxTranscriber(build_command_grammar(catalog, home))


def _listen(parts: tuple[Parser, PocketsphinxTranscriber], pcm: bytes, suppress: bool) -> list[UtteranceRecord]:
    parser, transcriber = parts
    records: list[UtteranceRecord] = []
    settings = AudioSettings(noise_suppression=suppress)
    asyncio.run(Pipeline(PcmSource(pcm), transcriber, Assistant(parser), settings, records.append).run())
    return records


@pytest.mark.parametrize("text", COMMANDS)
def test_clean_commands_are_heard_the_same_with_suppression(
    parts: tuple[Parser, PocketsphinxTranscriber], text: str
) -> None:
    """Clean speech passes the suppressor unchanged: the same exact transcript with it on and off."""
    pcm = silence(700) + espeak(text) + silence(700)
    on, off = _listen(parts, pcm, True), _listen(parts, pcm, False)
    assert [r.transcript for r in on] == [r.transcript for r in off] == [text]


def test_a_command_in_loud_noise_is_found_and_ended_by_silence(parts: tuple[Parser, PocketsphinxTranscriber]) -> None:
    """At 3 dB SNR the energy detector alone hears nothing; after suppression the command is one
    utterance that ends by the silence rule, well before the 3 s of trailing noise run out."""
    speech = silence(1000) + espeak("turn on the kitchen light") + silence(3000)
    pcm = mix_at_snr(speech, pink_noise(len(speech) / (2 * SAMPLE_RATE), 3000, seed=5).astype("<i2").tobytes(), 3.0)
    assert _listen(parts, pcm, False) == []
    records = _listen(parts, pcm, True)
    assert len(records) == 1
    assert records[0].timings_ms["audio"] < len(pcm) / (2 * SAMPLE_RATE) * 1000 - 1500
