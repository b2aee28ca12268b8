"""The microphone through sounddevice: native rate resampled to 16 kHz, overflows counted, reopened.

An input overflow is counted and logged, never fatal. If the device goes away mid-run the stream
is reopened with exponential backoff while the pipeline keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from edge_assistant.audio.sources import Framer, Resampler
from edge_assistant.errors import AudioSourceError, BackendMissingError

__all__ = ["MicSource", "list_devices"]

log = logging.getLogger(__name__)
_STALL_S = 2.0
_BACKOFF_START_S = 0.5
_BACKOFF_MAX_S = 8.0


def _sd() -> Any:
    try:
        import sounddevice
    except ImportError as exc:
        raise BackendMissingError("sounddevice", "vosk") from exc
    except OSError as exc:  # PortAudio itself is missing
        raise AudioSourceError(f"PortAudio is not available ({exc}); install libportaudio2") from exc
    return sounddevice


def list_devices(backend: Any = None) -> list[dict[str, Any]]:
    """Input devices: index, name, channels and native rate (``backend``: sounddevice or a stand-in)."""
    return [
        {"index": i, "name": d["name"], "channels": d["max_input_channels"], "rate": d["default_samplerate"]}
        for i, d in enumerate((backend or _sd()).query_devices())
        if d["max_input_channels"] > 0
    ]


def _pick(device: str, backend: Any) -> dict[str, Any]:
    devices = list_devices(backend)
    listing = "; ".join(f"{d['index']}: {d['name']}" for d in devices) or "none"
    if not devices:
        raise AudioSourceError(f"no audio input device found (input devices: {listing})")
    if device == "":
        default = backend.default.device[0]
        return next((d for d in devices if d["index"] == default), devices[0])
    found = [d for d in devices if str(d["index"]) == device or device.lower() in d["name"].lower()]
    if not found:
        raise AudioSourceError(f"no input device matches '{device}' (input devices: {listing})")
    return found[0]


class MicSource:
    """Live microphone input; ``overflows`` and ``dropped`` count lost audio.

    ``backend`` is the sounddevice module (default) or an object with the same ``query_devices``,
    ``default`` and ``InputStream`` (tests use one to unplug a device).
    """

    def __init__(self, device: str = "", queue_frames: int = 500, backend: Any = None) -> None:
        self._sd = backend or _sd()
        self.info = _pick(device, self._sd)
        self.name = f"mic:{self.info['name']}"
        self.overflows = 0
        self.dropped = 0
        self.reopened = 0
        self.backoff_start_s = _BACKOFF_START_S
        self.stall_s = _STALL_S
        self._queue_frames = queue_frames

    async def frames(self) -> AsyncIterator[bytes]:
        """Frames forever; the device is reopened with backoff when it fails."""
        backoff = self.backoff_start_s
        while True:
            try:
                async for frame in self._stream():
                    backoff = self.backoff_start_s
                    yield frame
            except (AudioSourceError, OSError, RuntimeError) as exc:
                log.warning("microphone %s failed (%s); reopening in %.1f s", self.name, exc, backoff)
                self.reopened += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)

    async def _stream(self) -> AsyncIterator[bytes]:
        sd = self._sd
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue(self._queue_frames)
        rate = int(self.info["rate"])
        resampler, framer = Resampler(rate), Framer()

        def put(data: bytes) -> None:
            if queue.full():
                self.dropped += 1
            else:
                queue.put_nowait(data)

        def callback(indata: Any, _frames: int, _time: Any, status: Any) -> None:
            if status.input_overflow:
                self.overflows += 1
                log.warning("input overflow on %s (%d so far)", self.name, self.overflows)
            mono = np.asarray(indata, dtype=np.float64).mean(axis=1) / 32768.0
            loop.call_soon_threadsafe(put, resampler.process(mono))

        with sd.InputStream(
            device=self.info["index"], samplerate=rate, channels=1, dtype="int16", callback=callback
        ) as stream:
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), self.stall_s)
                except asyncio.TimeoutError:
                    if not stream.active:
                        raise AudioSourceError("the input stream stopped") from None
                    continue
                for frame in framer.push(data):
                    yield frame
