"""Audio in: sources (microphone, WAV file, raw PCM on stdin) and end-of-utterance detection.

Every source yields 16 kHz mono S16LE chunks (``FRAME_BYTES`` = 20 ms), whatever the device or
file gives, so the rest of the pipeline sees one format.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FRAME_BYTES", "FRAME_MS", "SAMPLE_RATE", "AudioSettings"]

SAMPLE_RATE = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2


class AudioSettings(BaseModel):
    """``[audio]``: the input device, endpointing and the listening mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    device: str = Field(default="", description="sounddevice name (substring) or index; empty: the default input")
    silence_ms: int = Field(default=500, ge=100, le=5000, description="trailing silence that ends an utterance")
    max_utterance_s: float = Field(default=10.0, gt=0.5, le=120.0)
    min_speech_ms: int = Field(default=120, ge=20, le=2000, description="shorter bursts are ignored")
    threshold_db: float = Field(
        default=6.0, ge=1.0, le=40.0, description="speech starts this far above the noise floor"
    )
    mode: Literal["always", "wake", "push_to_talk"] = "always"
    wake_phrase: str = ""
    wake_timeout_s: float = Field(default=5.0, gt=0.0, description="after a lone wake phrase, wait this long")
    queue_frames: int = Field(default=500, ge=10, description="audio frames buffered before input is dropped")
    noise_suppression: bool = Field(default=False, description="Wiener-filter steady noise before endpointing")
    suppression_floor_db: float = Field(
        default=-20.0, ge=-40.0, le=0.0, description="the most a frequency bin is turned down (0: nothing)"
    )
