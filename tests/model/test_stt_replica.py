"""Engine replicas: a hub decodes several clients at once, one engine each, grammar compiled once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edge_assistant.config import Settings
from edge_assistant.pipeline import build_transcriber
from edge_assistant.runtime import build_parser
from edge_assistant.stt import SttSettings
from edge_assistant.stt.pocketsphinx import PocketsphinxTranscriber
from edge_assistant.stt.whisper import WhisperTranscriber
from tests.support.mapped import resident_mb
from tests.support.synth import espeak, silence

pytestmark = pytest.mark.model

GRAMMAR = Settings(stt=SttSettings(engine="pocketsphinx"))  # the engine whose replicas these tests are about


def test_replica_decodes_interleaved_with_its_original(example_home_path: Path) -> None:
    """Two utterances fed chunk by chunk in turn to an engine and its replica come out as said."""
    parser = build_parser(GRAMMAR, example_home_path, use_model=False)
    first = build_transcriber(GRAMMAR, parser)
    assert isinstance(first, PocketsphinxTranscriber)
    twin = first.replica()
    assert twin.automaton is first.automaton  # the grammar is shared, not compiled again
    said = {"turn on the porch light": first, "unlock the front door": twin}
    audio = {text: espeak(text) for text in said}
    for text, engine in said.items():  # each engine's first utterance adapts its cepstral mean
        warm = engine.start()
        warm.accept(audio[text])
        warm.finish()
    sessions = {text: engine.start() for text, engine in said.items()}
    for offset in range(0, max(len(a) for a in audio.values()), 3200):
        for text, session in sessions.items():
            if chunk := audio[text][offset : offset + 3200]:
                session.accept(chunk)
    assert {text: s.finish().text for text, s in sessions.items()} == {t: t for t in said}


def test_a_fresh_engine_continues_from_a_saved_adaptation(example_home_path: Path) -> None:
    """The cepstral mean one engine adapted is saved as text and restored on a fresh replica, which
    then decodes its first utterance right (a fresh mean heard "do you know our kitchen light")."""
    parser = build_parser(GRAMMAR, example_home_path, use_model=False)
    first = build_transcriber(GRAMMAR, parser)
    assert isinstance(first, PocketsphinxTranscriber)
    fresh = first.replica()
    assert first.adaptation() is None
    for text in ("turn on the porch light", "unlock the front door"):
        session = first.start()
        session.accept(espeak(text))
        session.finish()
    saved = first.adaptation()
    assert saved is not None and len(saved.split(",")) == 13
    fresh.adapt(saved)
    session = fresh.start()
    session.accept(silence(300) + espeak("turn off the kitchen lights") + silence(300))
    assert session.finish().text == "turn off the kitchen lights"


def test_whisper_replicas_share_one_model(example_home_path: Path) -> None:
    """The hub's Whisper engines are replicas of one loaded model that runs as many passes at once
    as it has workers: a replica costs a tokenizer, not the weights again (a second model is about
    60 MB here), and two clients' utterances decoded on two threads each come out as said."""
    settings = Settings(stt=SttSettings(early_decode_ms=0))  # the default engine, Whisper tiny.en: one pass each
    parser = build_parser(settings, example_home_path, use_model=False)
    first = build_transcriber(settings, parser, workers=2)
    assert isinstance(first, WhisperTranscriber)
    assert first._model.model.num_workers == 2
    before = resident_mb()
    twin = first.replica()
    assert isinstance(twin, WhisperTranscriber) and twin._model is first._model
    assert resident_mb() - before < 20
    said = {"turn on the porch light": first, "unlock the front door": twin}
    audio = {text: silence(300) + espeak(text) + silence(300) for text in said}
    heard: dict[str, str] = {}

    def decode(text: str) -> None:
        session = said[text].start()
        session.accept(audio[text])
        heard[text] = session.finish().text

    threads = [threading.Thread(target=decode, args=(text,)) for text in said]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {text: heard[text].rstrip(".").lower() for text in said} == {t: t for t in said}
