"""Guards on open-vocabulary transcripts and the text an open engine hands the parser."""

from __future__ import annotations

import numpy as np
import pytest

from edge_assistant.stt.guards import GuardSettings, compression_ratio, looping, rejection
from edge_assistant.stt.offline import Decoded, OfflineSession, spoken_form, to_transcript

pytestmark = pytest.mark.unit

LIMITS = GuardSettings()


def test_a_word_three_times_in_a_row_is_a_loop() -> None:
    """ "next next next" is a decoder stuck on one token."""
    assert looping("next next next")


def test_a_phrase_said_twice_back_to_back_is_a_loop() -> None:
    """Whisper's short-window failure: the command, then the command again."""
    assert looping("What's the date? What's the date?")


def test_a_command_with_a_repeated_word_apart_is_no_loop() -> None:
    """Words that recur apart ("the ... the") or a doubled word are ordinary speech."""
    assert not looping("turn on the light in the kitchen")
    assert not looping("no no")


def test_compression_ratio_is_high_only_for_repeating_text() -> None:
    """zlib compresses a repeated phrase far better than a command."""
    assert compression_ratio("close the garage door. " * 8) > LIMITS.compression_ratio  # type: ignore[operator]
    assert compression_ratio("set the kitchen light to 50 percent") < LIMITS.compression_ratio  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "evidence", "reason"),
    [
        ("", {}, "empty"),
        ("[Music]", {}, "sound label"),
        ("♪ ♪", {}, "sound label"),
        ("you", {"no_speech_prob": 0.93}, "no speech"),
        ("turn of the lights", {"avg_logprob": -1.4}, "low confidence"),
        ("cancel timer cancel timer", {}, "repeats itself"),
        ("a b c d e f g h i j", {"tokens": 40}, "tokens for"),
    ],
)
def test_each_guard_names_its_reason(text: str, evidence: dict[str, float], reason: str) -> None:
    """Empty, non-speech, unsure, looping or overlong text is refused, and the reason says which."""
    got = rejection(text, LIMITS, audio_s=2.0, **evidence)  # type: ignore[arg-type]
    assert got is not None and reason in got


def test_a_confident_command_passes_every_guard() -> None:
    """Measured values of a clean command: low no-speech probability, high log-probability."""
    text = "set the kitchen light to 50 percent"
    assert rejection(text, LIMITS, audio_s=2.5, tokens=9, no_speech_prob=0.05, avg_logprob=-0.2) is None


def test_a_guard_set_to_none_is_off() -> None:
    """``min_avg_logprob = none`` in the config keeps unsure transcripts."""
    assert rejection("turn on the fan", GuardSettings(avg_logprob=None), audio_s=2.0, avg_logprob=-3.0) is None


def test_a_rejected_transcript_is_not_in_the_grammar() -> None:
    """The pipeline refuses ``in_grammar=False`` ("not a command"); the reason travels in extra."""
    transcript = to_transcript(Decoded("Thank you.", 3, 0.95, -0.3), "whisper", LIMITS, 3.0)
    assert not transcript.in_grammar and "no speech" in transcript.extra["rejected"]


def test_a_decode_cut_off_by_the_token_cap_is_refused() -> None:
    """No end-of-text token within the cap: a loop, whatever its text."""
    transcript = to_transcript(Decoded("turn on the", 48, 0.01, -0.1, truncated=True), "whisper", LIMITS, 8.0)
    assert not transcript.in_grammar and "no end of text" in transcript.extra["rejected"]


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Set the bed light to 50%.", "Set the bed light to 50 percent"),
        ("Set temperature to 22.5°C.", "Set temperature to 22.5 degrees"),
        ("Wake me at 6 p.m.", "Wake me at 6 pm"),
        ("Hey Jarvis, turn on the lamp!", "Hey Jarvis turn on the lamp"),
        ("Set a timer for 1,000 seconds.", "Set a timer for 1000 seconds"),
        ("What's the time? It's 6:30.", "What's the time It's 6:30"),
    ],
)
def test_written_numbers_and_symbols_become_the_words_the_parser_reads(written: str, spoken: str) -> None:
    """Whisper writes digits and symbols; the parser reads "percent", "degrees" and "pm"."""
    assert spoken_form(written) == spoken


def test_an_offline_session_decodes_the_whole_utterance_once() -> None:
    """``accept`` only keeps audio; ``finish`` decodes all of it and reports the CPU time."""
    seen: list[np.ndarray] = []

    def decode(audio: np.ndarray) -> object:
        seen.append(audio)
        return to_transcript(Decoded("pause", 1, 0.0, -0.1), "fake", LIMITS, len(audio) / 16000)

    session = OfflineSession(decode)  # type: ignore[arg-type]
    assert session.accept(b"\x00\x40" * 8000) is None and session.accept(b"\x00\x40" * 8000) is None
    transcript = session.finish()
    assert len(seen) == 1 and seen[0].shape == (16000,) and seen[0][0] == pytest.approx(0.5)
    assert transcript.text == "pause" and transcript.extra["stt_cpu_s"] >= 0.0


def test_alternatives_are_kept_in_spoken_form_once_each() -> None:
    """The beam's other hypotheses travel in ``extra["alternatives"]`` as the parser reads them;
    those that only differ in case or punctuation from the transcript or each other are one."""
    decoded = Decoded(
        "Set the bed light right.",
        6,
        0.01,
        -0.3,
        alternatives=("Set the bed light brightness to 50%.", "set the Bed Light right", "Set the light to 50%"),
    )
    transcript = to_transcript(decoded, "whisper", LIMITS, 3.0)
    assert transcript.in_grammar
    assert transcript.extra["alternatives"] == [
        "Set the bed light brightness to 50 percent",
        "Set the light to 50 percent",
    ]


def test_a_refused_transcript_carries_no_alternatives() -> None:
    """When the audio holds no speech, no hypothesis of it may stand in for the transcript."""
    transcript = to_transcript(Decoded("Thank you.", 3, 0.95, -0.3, alternatives=("Turn on the TV",)), "w", LIMITS, 3.0)
    assert not transcript.in_grammar and "alternatives" not in transcript.extra
