"""The microphone source over a stand-in sounddevice backend: resampling, overflows, unplugging."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from edge_assistant.audio import FRAME_BYTES
from edge_assistant.audio.mic import MicSource, list_devices
from edge_assistant.errors import AudioSourceError

pytestmark = pytest.mark.unit


@dataclass
class Status:
    input_overflow: bool = False


@dataclass
class FakeSoundDevice:
    """Two devices; the USB mic delivers ``blocks`` callbacks per opening, then goes silent
    (unplugged); the next opening fails once ("device unavailable"), then it works again."""

    blocks: int = 20
    opened: int = 0
    fail_next_open: bool = False
    default: Any = field(default_factory=lambda: type("Default", (), {"device": (1, 0)})())

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {"name": "HDMI output", "max_input_channels": 0, "default_samplerate": 48000.0},
            {"name": "USB Mic (hw:1,0)", "max_input_channels": 1, "default_samplerate": 48000.0},
        ]

    def InputStream(self, **kw: Any) -> Any:  # sounddevice's name
        if self.fail_next_open:
            self.fail_next_open = False
            raise OSError("device unavailable")
        self.opened += 1
        self.fail_next_open = True
        return FakeStream(kw["callback"], self.blocks)


class FakeStream:
    """Calls the callback from a thread like PortAudio, 10 ms of 48 kHz audio each, then stops."""

    def __init__(self, callback: Any, blocks: int) -> None:
        self.callback, self.blocks, self.active = callback, blocks, True
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        block = (np.full((480, 1), 1000)).astype(np.int16)
        for i in range(self.blocks):
            self.callback(block, 480, None, Status(input_overflow=i == 3))
        self.active = False

    def __enter__(self) -> FakeStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()


def test_devices_are_listed_inputs_only() -> None:
    """Only devices with input channels are listed."""
    assert [d["name"] for d in list_devices(FakeSoundDevice())] == ["USB Mic (hw:1,0)"]


def test_unknown_device_error_lists_the_devices() -> None:
    """Asking for a device that is not there names the ones that are."""
    with pytest.raises(AudioSourceError, match=r"no input device matches 'zoom'.*1: USB Mic"):
        MicSource("zoom", backend=FakeSoundDevice())


def test_unplugged_device_is_reopened_and_audio_goes_on() -> None:
    """After the stream dies, the source reopens it (after one failed try) and keeps yielding
    16 kHz frames; the overflow is counted, not fatal."""
    backend = FakeSoundDevice()
    mic = MicSource("usb", backend=backend)
    mic.stall_s, mic.backoff_start_s = 0.05, 0.01

    async def take(n: int) -> list[bytes]:
        frames: list[bytes] = []
        async for frame in mic.frames():
            frames.append(frame)
            if len(frames) == n:
                break
        return frames

    # 20 blocks of 10 ms = 10 frames of 20 ms per opening; 25 frames need three openings.
    frames = asyncio.run(asyncio.wait_for(take(25), 10))
    assert backend.opened == 3 and mic.reopened >= 4
    assert all(len(f) == FRAME_BYTES for f in frames)
    assert mic.overflows == 3
