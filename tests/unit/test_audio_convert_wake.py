"""Network audio in any format -> 16 kHz mono S16LE; the wake phrase gate over transcripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from edge_assistant.audio.convert import PcmConverter
from edge_assistant.audio.wake import WakeGate
from edge_assistant.errors import AudioSourceError

pytestmark = pytest.mark.unit


def _tone(rate: int, seconds: float, channels: int, width: int, freq: float = 440.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    samples = np.repeat((0.5 * np.sin(2 * np.pi * freq * t))[:, None], channels, axis=1)
    if width == 2:
        return bytes((samples * 32767).astype("<i2").tobytes())
    return bytes((samples * (2**31 - 1)).astype("<i4").tobytes())


def _peak_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * 16000 / len(samples))


def test_48k_stereo_32bit_in_odd_chunks_becomes_16k_mono_tone() -> None:
    """A chunk may end inside a sample frame: the rest is kept, and the tone comes out at 16 kHz."""
    raw = _tone(48000, 1.0, channels=2, width=4)
    converter = PcmConverter()
    out = b"".join(converter.push(raw[i : i + 1001], 48000, 4, 2) for i in range(0, len(raw), 1001))
    assert abs(len(out) / 2 - 16000) <= 16
    assert abs(_peak_hz(out) - 440.0) < 5.0


def test_a_format_change_starts_the_conversion_over() -> None:
    """After 22.05 kHz stereo audio, 16 kHz mono comes out as from a fresh converter, within one step."""
    converter = PcmConverter()
    converter.push(_tone(22050, 0.2, 2, 2)[:-1], 22050, 2, 2)  # leaves half a frame behind
    plain = _tone(16000, 0.2, 1, 2)
    out = np.frombuffer(converter.push(plain, 16000, 2, 1), dtype="<i2").astype(int)
    assert out.shape == (3200,) and np.abs(out - np.frombuffer(plain, dtype="<i2")).max() <= 1


@pytest.mark.parametrize(("rate", "width", "channels"), [(0, 2, 1), (16000, 5, 1), (16000, 2, 0), ("16000", 2, 1)])
def test_unusable_formats_are_refused_by_name(rate: object, width: object, channels: object) -> None:
    """A rate, width or channel count out of range (or not an integer) is an error naming the field."""
    with pytest.raises(AudioSourceError, match=r"^audio (rate|width|channels) "):
        PcmConverter().push(b"\0\0", rate, width, channels)  # type: ignore[arg-type]


def test_wake_phrase_then_command_in_one_utterance_or_two() -> None:
    """ "hey edge turn on the light" is a command; a lone "hey edge" arms the next utterance only."""
    now = [0.0]
    gate = WakeGate("hey edge", timeout_s=5.0, clock=lambda: now[0])
    assert gate.command("hey edge turn on the light") == ("turn on the light", None)
    assert gate.command("turn on the light") == ("turn on the light", "no wake phrase")
    assert gate.command("hey edge")[1] == "wake phrase heard; waiting for the command"
    now[0] = 3.0
    assert gate.command("turn off the light") == ("turn off the light", None)
    assert gate.command("turn off the light")[1] == "no wake phrase"
    gate.command("hey edge")
    now[0] = 10.0
    assert gate.command("turn off the light")[1] == "no wake phrase"


def test_without_a_wake_phrase_every_transcript_is_a_command() -> None:
    """No phrase configured: the text passes; an empty transcript is nothing heard."""
    gate = WakeGate("")
    assert gate.command("turn on the light") == ("turn on the light", None)
    assert gate.command("  ") == ("", "nothing heard")


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("okay rhasspy", "Okay raspy Turn on the living room lamp"),  # Whisper's spelling of a made-up word
        ("hey mycroft", "Hey, my croft, turn on the living room lamp"),
        ("snowboy", "Snow boy turn on the living room lamp"),
        ("porcupine", "Porcupine. Turn on the living room lamp"),
    ],
)
def test_a_wake_phrase_spelled_as_heard_still_wakes(phrase: str, heard: str) -> None:
    """The opening words are a slip of the phrase: the rest is the command, without the phrase's words."""
    assert WakeGate(phrase).command(heard) == (" ".join(heard.split()[-6:]), None)


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("okay rhasspy", "okay raspberry pi is hot"),
        ("hey mycroft", "hey microsoft office is open"),
        ("porcupine", "turn on the living room lamp"),
        ("computer", "can you compute the sum"),
        ("hey edge", "hello turn on the light"),
    ],
)
def test_other_words_do_not_wake(phrase: str, heard: str) -> None:
    """Words that only share some letters with the phrase are no wake phrase."""
    assert WakeGate(phrase).command(heard) == (heard, "no wake phrase")


def _scorer(table: dict[str, float], default: float = -30.0) -> Callable[[Sequence[str]], list[float]]:
    return lambda texts: [table.get(text, default) for text in texts]


def test_a_lone_phrase_the_audio_says_better_than_what_was_heard_wakes() -> None:
    """ "Snowboy" said alone at 12 dB is heard "There's no board"; scored on the same audio, the
    phrase is likelier than the words heard (a real recording: -1.0 against -4.1 nats)."""
    gate = WakeGate("snowboy")
    assert gate.said_on_audio("There's no board", _scorer({"There's no board": -4.1, "snowboy": -1.0}))
    assert gate.said_on_audio("There's no board", _scorer({"There's no board": -4.1, "Snowboy": -4.9}))  # within 1 nat
    assert not gate.said_on_audio("There's no board", _scorer({"There's no board": -4.1, "snowboy": -6.0}))


def test_long_utterances_and_the_phrase_itself_are_not_weighed() -> None:
    asked: list[list[str]] = []

    def score(texts: Sequence[str]) -> list[float]:
        asked.append(list(texts))
        return [0.0 for _ in texts]

    gate = WakeGate("snowboy")
    assert not gate.said_on_audio("turn on the living room lamp please", score)  # a sentence, not a lone phrase
    assert not gate.said_on_audio("Snow boy", score)  # the letters already wake it
    assert not WakeGate("").said_on_audio("There's no board", score)
    assert asked == []
