"""pocketsphinx with the real bundled English model on speech synthesised by espeak-ng."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant.audio.sources import frames_of
from edge_assistant.events import Transcript
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.stt.grammar import build_command_grammar
from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber
from tests.support.synth import espeak, silence, sox_noise

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def grammar(example_home_path: Path):  # type: ignore[no-untyped-def]
    """The catalog grammar for the example home."""
    return build_command_grammar(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))


@pytest.fixture(scope="module")
def transcriber(grammar) -> PocketsphinxTranscriber:  # type: ignore[no-untyped-def]
    """pocketsphinx in grammar mode."""
    return PocketsphinxTranscriber(grammar)


def _decode(transcriber: PocketsphinxTranscriber, pcm: bytes) -> tuple[Transcript, list[str]]:
    session = transcriber.start()
    partials = [p for f in frames_of(silence(300) + pcm + silence(400)) if (p := session.accept(f))]
    return session.finish(), partials


@pytest.mark.parametrize(
    "text",
    ["turn on the kitchen light", "set the porch light to forty percent", "what is the temperature in the study"],
)
def test_commands_are_transcribed_exactly_in_grammar_mode(transcriber: PocketsphinxTranscriber, text: str) -> None:
    """espeak-ng commands come out word for word and marked as in the grammar."""
    result, _ = _decode(transcriber, espeak(text))
    assert (result.text, result.in_grammar) == (text, True)
    assert result.engine == "pocketsphinx" and result.words[0].word == text.split()[0]


def test_partials_stream_while_decoding(transcriber: PocketsphinxTranscriber) -> None:
    """Partial hypotheses appear before the utterance is finished."""
    _, partials = _decode(transcriber, espeak("set the study thermostat to twenty one degrees"))
    assert partials and partials[-1].startswith("set the")


@pytest.mark.parametrize(
    "text", ["the quick brown fox jumps over the lazy dog", "please remind me to call the dentist tomorrow"]
)
def test_off_topic_speech_is_not_forced_onto_a_command(transcriber: PocketsphinxTranscriber, text: str) -> None:
    """Speech outside the grammar is marked in_grammar=False (the phone loop takes it)."""
    result, _ = _decode(transcriber, espeak(text))
    assert result.in_grammar is False


@pytest.mark.parametrize("kind", ["whitenoise", "pinknoise"])
def test_noise_is_not_a_command(transcriber: PocketsphinxTranscriber, kind: str) -> None:
    """Two seconds of sox noise never yield an in-grammar transcript."""
    result, _ = _decode(transcriber, sox_noise(2.0, kind, 0.3))
    assert result.in_grammar is False


def test_wake_phrase_is_spotted_and_stripped(grammar) -> None:  # type: ignore[no-untyped-def]
    """With a wake phrase the grammar allows it before a command; the transcript is the command."""
    transcriber = PocketsphinxTranscriber(grammar, wake_phrase="hey computer")
    result, _ = _decode(transcriber, espeak("hey computer, turn off the porch light"))
    assert (result.text, result.extra["wake"], result.in_grammar) == ("turn off the porch light", True, True)


def test_a_wake_phrase_it_cannot_say_is_named(grammar) -> None:  # type: ignore[no-untyped-def]
    """ "okay rhasspy": no dictionary word, none to build it from; the error names the word and the way out."""
    from edge_assistant.errors import SpeechError

    with pytest.raises(SpeechError, match=r"cannot say 'rhasspy'.*engine = \"whisper\""):
        PocketsphinxTranscriber(grammar, wake_phrase="okay rhasspy")
    assert PocketsphinxTranscriber(grammar, wake_phrase="snowboy").wake_words == ("snowboy",)  # snow + boy


def test_open_vocabulary_mode_transcribes_free_speech() -> None:
    """Without a grammar the bundled language model gives a free transcript (for the model path)."""
    result, _ = _decode(PocketsphinxTranscriber(None), espeak("hello world"))
    assert result.text and result.in_grammar is True


@pytest.mark.parametrize(("seconds", "in_grammar"), [(0.4, True), (2.1, False)])
def test_a_word_stretched_over_seconds_is_noise(
    transcriber: PocketsphinxTranscriber, monkeypatch: pytest.MonkeyPatch, seconds: float, in_grammar: bool
) -> None:
    """White noise once decoded as "stop" spanning 2.1 s: no spoken word lasts that long, so it is
    marked not in the grammar; the same word at a speaking length stays a command."""
    from edge_assistant.events import WordInfo

    monkeypatch.setattr(transcriber, "words", lambda: [WordInfo(word="stop", conf=0.8, start=0.3, end=0.3 + seconds)])
    session = transcriber.start()
    try:
        result = session._result()
    finally:
        session._decoder.end_utt()
    assert (result.text, result.in_grammar, result.extra["stretched"]) == ("stop", in_grammar, not in_grammar)
