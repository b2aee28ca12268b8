"""Spoken replies with the real espeak-ng, written to WAV files instead of a sound card."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_assistant.tts import TtsSettings, TtsSpeaker, WavFilePlayer, build_speaker

pytestmark = pytest.mark.unit


def seconds_and_rms(path: Path) -> tuple[float, float]:
    """Duration and RMS level of a 16-bit WAV file."""
    with wave.open(io.BytesIO(path.read_bytes())) as data:
        frames = np.frombuffer(data.readframes(data.getnframes()), dtype=np.int16).astype(np.float64)
        return data.getnframes() / data.getframerate(), float(np.sqrt(np.mean(frames**2)))


def test_espeak_speaks_each_reply(tmp_path: Path) -> None:
    """Each reply becomes audible speech; a longer reply lasts longer."""
    player = WavFilePlayer(tmp_path)
    speaker = build_speaker(TtsSettings(engine="espeak-ng"), player)
    assert isinstance(speaker, TtsSpeaker)

    async def go() -> None:
        await speaker.say("Done.")
        await speaker.say("Turned off the kitchen light and closed the study blinds.")
        await speaker.say("   ")

    asyncio.run(go())
    short, long = (seconds_and_rms(p) for p in player.files)
    assert len(player.files) == 2
    assert short[1] > 300 and long[1] > 300
    assert long[0] > short[0] + 1.0


def test_text_starting_with_a_dash_is_spoken_not_an_option(tmp_path: Path) -> None:
    """Text goes to espeak-ng on stdin, so "--help" is spoken, not obeyed."""
    player = WavFilePlayer(tmp_path)
    speaker = build_speaker(TtsSettings(engine="espeak-ng"), player)
    assert speaker is not None
    asyncio.run(speaker.say("--help"))
    assert seconds_and_rms(player.files[0])[0] > 0.2


def test_engine_none_means_no_speaker() -> None:
    """The default engine is silent."""
    assert build_speaker(TtsSettings()) is None


def test_player_fault_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A player that fails (here: a directory that became a file) leaves last_error, no exception."""
    player = WavFilePlayer(tmp_path / "out")
    speaker = build_speaker(TtsSettings(engine="espeak-ng"), player)
    assert speaker is not None
    (tmp_path / "out").rmdir()
    (tmp_path / "out").write_text("not a directory")
    asyncio.run(speaker.say("hello"))
    assert speaker.last_error and "cannot speak" in caplog.text
