"""Noise suppression: clean input unchanged, steady noise turned down, speech kept, endpointing in noise."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import numpy as np
import pytest

from edge_assistant.assistant import Assistant
from edge_assistant.audio import FRAME_BYTES, SAMPLE_RATE, AudioSettings
from edge_assistant.audio.denoise import NoiseSuppressor
from edge_assistant.audio.endpoint import Endpointer
from edge_assistant.audio.sources import PcmSource, frames_of
from edge_assistant.events import Transcript, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser
from edge_assistant.pipeline import Pipeline
from edge_assistant.testing import FakeTranscriber
from tests.support.synth import pink_noise

pytestmark = pytest.mark.unit

_DELAY = 512  # samples: one analysis window


def _voiced(seconds: float, rms: float) -> np.ndarray:
    """A speech-like harmonic sound: 150 Hz and its harmonics up to 3 kHz, at ``rms``."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    sound = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 21))
    return sound * rms / np.std(sound)  # type: ignore[no-any-return]


def _pcm(x: np.ndarray) -> bytes:
    return bytes(np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes())


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def _suppress(pcm: bytes, chunk: int = FRAME_BYTES, **kw: float) -> bytes:
    suppressor = NoiseSuppressor(**kw)
    return b"".join(suppressor.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-12))


def test_clean_speech_in_digital_silence_passes_unchanged() -> None:
    """With no noise there is nothing to take away: the output is the input, one window later."""
    clean = np.concatenate([np.zeros(8000), _voiced(1.5, 3000), np.zeros(8000)])
    out = _samples(_suppress(_pcm(clean)))
    np.testing.assert_array_equal(out[_DELAY:], np.round(clean[: clean.size - _DELAY]))


def test_output_has_the_input_length_for_any_chunking() -> None:
    """Every call returns as many samples as it was given, so 20 ms frames stay 20 ms frames."""
    suppressor = NoiseSuppressor()
    noise = _pcm(pink_noise(1.0, 1000))
    sizes = [2, 640, 1002, 34, 5000, 640]
    offsets = np.cumsum([0, *sizes])
    assert [len(suppressor.process(noise[a:b])) for a, b in itertools.pairwise(offsets)] == sizes


def test_the_first_window_out_is_not_digital_silence() -> None:
    """The delay is filled with the turned-down input; zeros would set noise floors downstream to nothing."""
    out = _samples(NoiseSuppressor().process(_pcm(pink_noise(0.02, 1000))))
    assert np.abs(out).max() > 0


def test_steady_noise_is_turned_down_to_the_floor() -> None:
    """After a moment to learn it, pink noise comes out about ``floor_db`` quieter."""
    noise = pink_noise(3.0, 2000)
    out = _samples(_suppress(_pcm(noise), floor_db=-20.0))
    settled = slice(SAMPLE_RATE, None)
    assert _db(noise[settled]) - _db(out[settled]) == pytest.approx(20.0, abs=3.0)


def test_speech_in_noise_is_kept_while_the_noise_goes() -> None:
    """A voiced sound at 6 dB SNR keeps its own level (within 2 dB); the SNR improves by 10 dB or more."""
    noise = pink_noise(4.0, 2000)
    speech = np.zeros_like(noise)
    speech[2 * SAMPLE_RATE : 3 * SAMPLE_RATE] = _voiced(1.0, 2000 * 10 ** (6 / 20))
    out = _samples(_suppress(_pcm(speech + noise)))[_DELAY:]
    inside = slice(2 * SAMPLE_RATE + 1600, 3 * SAMPLE_RATE - 1600)
    before = slice(SAMPLE_RATE, 2 * SAMPLE_RATE - 1600)
    kept = _db(out[inside]) - _db(speech[inside])
    assert kept > -2.0
    snr_in = _db((speech + noise)[inside]) - _db(noise[before])
    snr_out = _db(out[inside]) - _db(out[before])
    assert snr_out - snr_in >= 10.0


def test_a_louder_background_is_followed() -> None:
    """When the noise rises by 12 dB, within 4 s it is turned down again, not taken for speech."""
    quiet, loud = pink_noise(2.0, 500, seed=4), pink_noise(6.0, 2000, seed=5)
    out = _samples(_suppress(_pcm(np.concatenate([quiet, loud]))))
    late = out[(2 + 4) * SAMPLE_RATE + _DELAY :]
    assert _db(loud[4 * SAMPLE_RATE :]) - _db(late) >= 15.0


def test_no_suppression_below_a_zero_floor() -> None:
    """``floor_db = 0`` turns nothing down: the noise comes out as it went in."""
    noise = pink_noise(1.0, 2000)
    out = _samples(_suppress(_pcm(noise), floor_db=0.0))
    # past the first window, whose first half has no overlapping neighbour
    np.testing.assert_allclose(out[2 * _DELAY :], np.round(noise[_DELAY : noise.size - _DELAY]), atol=1.0)


def _utterance_ends(pcm: bytes, suppress: bool) -> list[str]:
    suppressor, endpointer, reasons = NoiseSuppressor(), Endpointer(AudioSettings()), []
    for frame in frames_of(pcm):
        event = endpointer.push(suppressor.process(frame) if suppress else frame)
        if event.kind == "end":
            reasons.append(event.reason)
    return reasons


def test_endpointing_after_suppression_finds_a_sound_in_noise_at_3_db() -> None:
    """A 1.5 s sound in pink noise at 3 dB SNR: with suppression it starts and ends by silence
    (the energy detector alone never sees it start)."""
    noise = pink_noise(5.0, 2000, seed=7)
    speech = np.zeros_like(noise)
    speech[SAMPLE_RATE : SAMPLE_RATE * 5 // 2] = _voiced(1.5, 2000 * 10 ** (3 / 20))
    assert _utterance_ends(_pcm(speech + noise), suppress=True) == ["silence"]


def test_pipeline_suppresses_noise_before_the_engine_when_enabled(example_home_path: Path) -> None:
    """``[audio] noise_suppression``: a sound at 3 dB SNR is found and ends by the silence rule."""
    noise = pink_noise(6.0, 2000, seed=8)
    speech = np.zeros_like(noise)
    speech[SAMPLE_RATE : SAMPLE_RATE * 5 // 2] = _voiced(1.5, 2000 * 10 ** (3 / 20))
    parser = Parser(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))
    records: list[UtteranceRecord] = []
    settings = AudioSettings(noise_suppression=True)
    pipeline = Pipeline(
        PcmSource(_pcm(speech + noise)), FakeTranscriber([Transcript("")]), Assistant(parser), settings, records.append
    )
    asyncio.run(pipeline.run())
    assert len(records) == 1
    assert records[0].timings_ms["audio"] < 4000  # the input is 6 s: the end was found in the noise
