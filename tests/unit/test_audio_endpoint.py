"""End of utterance: trailing-silence rule, maximum length, pre-roll, short bursts, noise floor."""

from __future__ import annotations

import numpy as np
import pytest

from edge_assistant.audio import FRAME_MS, SAMPLE_RATE, AudioSettings
from edge_assistant.audio.endpoint import Endpointer, Event
from edge_assistant.audio.sources import frames_of

pytestmark = pytest.mark.unit


def _tone(ms: int, amplitude: float = 0.3) -> bytes:
    t = np.arange(SAMPLE_RATE * ms // 1000) / SAMPLE_RATE
    return bytes((amplitude * 32767 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes())


def _noise(ms: int, amplitude: float, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    return bytes((rng.normal(0, amplitude * 32767, SAMPLE_RATE * ms // 1000)).astype("<i2").tobytes())


def _quiet(ms: int) -> bytes:
    return b"\0\0" * (SAMPLE_RATE * ms // 1000)


def _events(pcm: bytes, settings: AudioSettings | None = None) -> list[tuple[int, Event]]:
    endpointer = Endpointer(settings or AudioSettings())
    out = [(i, e) for i, f in enumerate(frames_of(pcm)) if (e := endpointer.push(f)).kind in ("start", "end")]
    final = endpointer.flush()
    return out + ([(-1, final)] if final.kind == "end" else [])


def test_silence_alone_is_no_utterance() -> None:
    """Five seconds of silence never start an utterance."""
    assert _events(_quiet(5000)) == []


def test_utterance_ends_after_the_trailing_silence() -> None:
    """One burst gives one start and one end, ``silence_ms`` after the sound stops."""
    settings = AudioSettings(silence_ms=400)
    events = _events(_quiet(1000) + _tone(800) + _quiet(2000), settings)
    assert [e.kind for _, e in events] == ["start", "end"]
    end_frame = events[1][0]
    sound_stops = (1000 + 800) // FRAME_MS
    assert (end_frame - sound_stops + 1) * FRAME_MS == pytest.approx(400, abs=2 * FRAME_MS)
    assert events[1][1].reason == "silence"


def test_default_trailing_silence_is_at_most_500_ms() -> None:
    """The default endpointing wait is within the 500 ms the issue asks for."""
    assert AudioSettings().silence_ms <= 500


def test_pause_shorter_than_the_rule_keeps_one_utterance() -> None:
    """A 200 ms gap between words does not split the utterance."""
    events = _events(_quiet(500) + _tone(400) + _quiet(200) + _tone(400) + _quiet(1500))
    assert [e.kind for _, e in events] == ["start", "end"]


def test_maximum_length_closes_a_never_ending_utterance() -> None:
    """Continuous sound is cut at ``max_utterance_s``."""
    events = _events(_quiet(300) + _tone(5000), AudioSettings(max_utterance_s=1.5))
    assert events[1][1].reason == "max length"
    assert (events[1][0] - events[0][0]) * FRAME_MS <= 1600


def test_start_carries_the_pre_roll() -> None:
    """The start event brings the frames just before speech was detected, so no phone is cut."""
    events = _events(_quiet(1000) + _tone(500) + _quiet(1000))
    assert len(events[0][1].frames) * FRAME_MS >= 200


def test_click_shorter_than_min_speech_is_ignored() -> None:
    """A 40 ms click is not an utterance."""
    assert _events(_quiet(500) + _tone(40) + _quiet(1500), AudioSettings(min_speech_ms=120)) == []


def test_speech_over_steady_noise_is_found() -> None:
    """With steady background noise the floor adapts and the louder speech still opens and closes."""
    noise = _noise(6000, 0.01)
    speech = _noise(1000, 0.01, seed=2)
    loud = np.frombuffer(speech, "<i2").astype(np.int32) + np.frombuffer(_tone(1000, 0.2), "<i2")
    pcm = noise[: len(noise) // 2] + bytes(loud.astype("<i2").tobytes()) + noise[len(noise) // 2 :]
    assert [e.kind for _, e in _events(pcm)] == ["start", "end"]


def test_input_ending_mid_speech_closes_the_utterance() -> None:
    """``flush`` ends an utterance that is still open when the input stops."""
    events = _events(_quiet(300) + _tone(800))
    assert events[-1][1].reason == "end of input"


def test_speech_from_the_first_frame_is_found() -> None:
    """A file that starts with speech (no leading silence) still gives an utterance with its start."""
    speech = _tone(20, 0.02) + b"".join(_tone(100, amplitude) for amplitude in (0.3, 0.25, 0.3, 0.2) * 4)
    events = _events(speech + _quiet(1000))
    assert [e.kind for _, e in events] == ["start", "end"]
    assert events[0][0] < 25


def _sum(*parts: bytes) -> bytes:
    arrays = [np.frombuffer(p, dtype="<i2").astype(np.int32) for p in parts]
    size = min(len(a) for a in arrays)
    return bytes(np.clip(sum(a[:size] for a in arrays), -32768, 32767).astype("<i2").tobytes())


def _spiky_noise(ms: int, amplitude: float, every_ms: int = 140, seed: int = 2) -> bytes:
    """Steady noise with a single frame about 5 dB louder now and then, as fans and pink noise have."""
    noise = np.frombuffer(_noise(ms, amplitude, seed), dtype="<i2").astype(np.float64)
    frame = SAMPLE_RATE * FRAME_MS // 1000
    for start in range(0, len(noise) - frame, SAMPLE_RATE * every_ms // 1000):
        noise[start : start + frame] *= 1.8
    return bytes(np.clip(noise, -32768, 32767).astype("<i2").tobytes())


def test_an_utterance_in_steady_noise_ends_after_the_trailing_silence() -> None:
    """Frames of the noise a few dB above its floor now and then do not hold the utterance open
    until its maximum length: a loud frame goes on with the speech only when the median of the
    last 100 ms is loud too."""
    noise = _spiky_noise(6000, 0.02)
    speech = _quiet(1500) + _tone(800, 0.1) + _quiet(6000 - 2300)
    events = _events(_sum(noise, speech), AudioSettings(silence_ms=500, max_utterance_s=10.0))
    assert [e.kind for _, e in events] == ["start", "end"]
    assert events[1][1].reason == "silence"
    sound_stops = (1500 + 800) // FRAME_MS
    assert (events[1][0] - sound_stops) * FRAME_MS <= 500 + 6 * FRAME_MS


def test_fast_syllables_in_noise_start_speech() -> None:
    """Syllables of 60 ms with dips between them, none long enough alone, start an utterance:
    120 ms of loud frames within 300 ms is speech. A lone 60 ms burst is not."""
    syllables = b"".join(_tone(60, 0.1) + _quiet(40) for _ in range(6))
    noise = _noise(3000, 0.01)
    events = _events(_sum(noise, _quiet(1000) + syllables + _quiet(1400)))
    assert [e.kind for _, e in events][:1] == ["start"]
    assert _events(_sum(noise, _quiet(1000) + _tone(60, 0.1) + _quiet(1940))) == []
