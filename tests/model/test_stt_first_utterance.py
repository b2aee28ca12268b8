"""The first utterance a fresh pocketsphinx decoder hears, with speech from the very first sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant.answers import SPOKEN_ANSWERS
from edge_assistant.config import Settings
from edge_assistant.dispatch import is_no, is_yes
from edge_assistant.pipeline import build_transcriber
from edge_assistant.runtime import build_parser
from edge_assistant.stt import SttSettings
from tests.support.synth import espeak

pytestmark = pytest.mark.model


@pytest.mark.parametrize("text", ["dim the kitchen lights to 30 percent", "turn off the porch light"])
def test_unpadded_first_command_is_heard(example_home_path: Path, text: str) -> None:
    """No leading silence and no earlier utterance: the cepstral mean adapts over re-decoding passes."""
    settings = Settings(stt=SttSettings(engine="pocketsphinx"))
    parser = build_parser(settings, example_home_path, use_model=False)
    session = build_transcriber(settings, parser).start()
    session.accept(espeak(text))
    transcript = session.finish()
    assert transcript.in_grammar and parser.parse(transcript.text).intent is not None


def test_every_spoken_answer_is_a_yes_or_a_no() -> None:
    """The grammar's answers are exactly phrases the dispatcher takes as yes or as no."""
    assert all(is_yes(a) != is_no(a) for a in SPOKEN_ANSWERS)
