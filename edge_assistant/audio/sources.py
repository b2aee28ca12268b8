"""Audio sources: WAV files, raw S16LE on stdin and the microphone, all as 16 kHz mono frames.

A source is an async iterator of ``FRAME_BYTES`` chunks (``frames()``). Blocking reads run in
worker threads; a file is read in blocks, so a 10-minute WAV takes bounded memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edge_assistant.audio import FRAME_BYTES, FRAME_MS, SAMPLE_RATE
from edge_assistant.errors import AudioSourceError

__all__ = [
    "AudioSource",
    "Framer",
    "PacedSource",
    "PcmSource",
    "Resampler",
    "StdinSource",
    "WavSource",
    "frames_of",
    "to_mono_float",
]

log = logging.getLogger(__name__)
_BLOCK_FRAMES = 16000
_EXPECTED = "a PCM WAV (8, 16, 24 or 32-bit integer samples, any rate and channel count)"


class AudioSource(Protocol):
    """Yields 16 kHz mono S16LE frames of ``FRAME_BYTES`` until the input ends."""

    name: str

    def frames(self) -> AsyncIterator[bytes]:
        """The audio, one 20 ms frame at a time."""
        ...


class Resampler:
    """Streaming linear-interpolation resampler to 16 kHz, with a box low-pass when downsampling."""

    def __init__(self, rate_in: int) -> None:
        self.rate_in = rate_in
        self._step = rate_in / SAMPLE_RATE
        self._box = np.ones(max(1, round(self._step))) / max(1, round(self._step))
        self._raw_tail = np.zeros(len(self._box) - 1)
        self._count = 0  # input samples seen
        self._last = 0.0  # the filtered input sample at index count - 1
        self._next = 0.0  # input position of the next output sample

    def process(self, samples: np.ndarray) -> bytes:
        """Float samples in [-1, 1] at ``rate_in`` -> S16LE bytes at 16 kHz."""
        if self.rate_in == SAMPLE_RATE or samples.size == 0:
            return _to_s16(samples)
        raw = np.concatenate([self._raw_tail, samples.astype(np.float64)])
        filtered = np.convolve(raw, self._box, mode="valid")
        self._raw_tail = raw[len(raw) - len(self._box) + 1 :]
        buffer = np.concatenate([[self._last], filtered])
        times = np.arange(self._next, self._count + len(filtered) - 1 + 1e-9, self._step)
        out = np.interp(times - (self._count - 1), np.arange(len(buffer)), buffer)
        if len(times):
            self._next = float(times[-1]) + self._step
        self._count += len(filtered)
        self._last = float(filtered[-1])
        return _to_s16(out)


def _to_s16(samples: np.ndarray) -> bytes:
    return bytes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


def to_mono_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    """PCM bytes of ``width`` bytes per sample and ``channels`` interleaved channels -> mono floats."""
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        data = np.where(value >= 1 << 23, value - (1 << 24), value).astype(np.float64) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise AudioSourceError(f"{width * 8}-bit samples are not supported; expected {_EXPECTED}")
    usable = len(data) - len(data) % channels
    mono: np.ndarray = data[:usable].reshape(-1, channels).mean(axis=1)
    return mono


class Framer:
    """Cuts a byte stream into ``FRAME_BYTES`` frames, carrying the remainder."""

    def __init__(self) -> None:
        self._buffer = b""

    def push(self, data: bytes) -> list[bytes]:
        """Append ``data``; return the whole frames now available."""
        self._buffer += data
        cut = len(self._buffer) - len(self._buffer) % FRAME_BYTES
        frames = [self._buffer[i : i + FRAME_BYTES] for i in range(0, cut, FRAME_BYTES)]
        self._buffer = self._buffer[cut:]
        return frames

    def flush(self) -> list[bytes]:
        """The last partial frame, padded with silence."""
        rest, self._buffer = self._buffer, b""
        return [rest + b"\0" * (FRAME_BYTES - len(rest))] if rest else []


def _open_wav(path: Path) -> wave.Wave_read:
    if not path.is_file():
        raise AudioSourceError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioSourceError(f"{path}: the file is empty (0 bytes); expected {_EXPECTED}")
    try:
        reader = wave.open(str(path), "rb")  # noqa: SIM115  # closed by the caller
    except (wave.Error, EOFError) as exc:
        why = str(exc) or "the header ends early: no RIFF/WAVE chunks"  # EOFError says nothing
        raise AudioSourceError(f"{path}: not a usable WAV ({why}); expected {_EXPECTED}") from exc
    if reader.getnchannels() < 1 or reader.getframerate() < 1000:
        reader.close()
        raise AudioSourceError(f"{path}: invalid header ({reader.getframerate()} Hz); expected {_EXPECTED}")
    return reader


class WavSource:
    """A WAV file of any PCM rate, width and channel count; other encodings are rejected."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        _open_wav(self.path).close()  # fail early, before the pipeline starts

    async def frames(self) -> AsyncIterator[bytes]:
        """Read block by block in a worker thread; a truncated file raises after what it holds."""
        reader = _open_wav(self.path)
        try:
            width, channels = reader.getsampwidth(), reader.getnchannels()
            declared, got = reader.getnframes(), 0
            resampler, framer = Resampler(reader.getframerate()), Framer()
            while True:
                raw = await asyncio.to_thread(reader.readframes, _BLOCK_FRAMES)
                if not raw:
                    break
                got += len(raw) // (width * channels)
                for frame in framer.push(resampler.process(to_mono_float(raw, width, channels))):
                    yield frame
            for frame in framer.flush():
                yield frame
        finally:
            reader.close()
        if got < declared:
            raise AudioSourceError(f"{self.path}: truncated: the header declares {declared} frames, it holds {got}")


class StdinSource:
    """Raw 16 kHz mono S16LE PCM from a binary stream (``arecord -f S16_LE -r 16000 -c 1 -t raw``)."""

    def __init__(self, stream: BinaryIO, name: str = "stdin") -> None:
        self._stream = stream
        self.name = name

    async def frames(self) -> AsyncIterator[bytes]:
        """Read until end of stream.

        A daemon thread reads: a stream that is open but silent blocks its ``read``, and a worker
        of the loop's executor, which ``asyncio.run`` waits for at exit, kept a stopped process
        alive until the writer wrote again or closed (SIGTERM to ``satellite --stdin`` did nothing).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | OSError] = asyncio.Queue(maxsize=8)

        def pump() -> None:
            while True:
                try:
                    data: bytes | OSError = self._stream.read(FRAME_BYTES * 10)
                except OSError as exc:
                    data = exc
                put = queue.put(data)
                try:
                    asyncio.run_coroutine_threadsafe(put, loop).result()
                except (RuntimeError, concurrent.futures.CancelledError):
                    put.close()  # the loop has ended: nobody reads any more
                    return
                if not isinstance(data, bytes) or not data:
                    return

        threading.Thread(target=pump, name=f"{self.name}-reader", daemon=True).start()
        framer = Framer()
        while True:
            data = await queue.get()
            if isinstance(data, OSError):
                raise AudioSourceError(f"{self.name}: cannot read: {data}") from data
            if not data:
                break
            for frame in framer.push(data):
                yield frame
        for frame in framer.flush():
            yield frame


class PcmSource:
    """16 kHz mono S16LE bytes already in memory (tests, benchmarks, synthesised speech)."""

    def __init__(self, pcm: bytes, name: str = "pcm") -> None:
        self.pcm = pcm
        self.name = name

    async def frames(self) -> AsyncIterator[bytes]:
        """The bytes as frames, yielding to the loop between them."""
        for frame in frames_of(self.pcm):
            yield frame
            await asyncio.sleep(0)


def frames_of(pcm: bytes) -> list[bytes]:
    """Whole frames of 16 kHz S16LE ``pcm`` (the last one padded): for tests and benchmarks."""
    framer = Framer()
    return framer.push(pcm) + framer.flush()


class PacedSource:
    """Plays another source in real time (a file or stdin then speaks like a person at a microphone)."""

    def __init__(self, source: AudioSource) -> None:
        self.source = source
        self.name = source.name

    async def frames(self) -> AsyncIterator[bytes]:
        """The frames, one every 20 ms of wall time."""
        start = time.perf_counter()
        count = 0
        async for frame in self.source.frames():
            count += 1
            delay = start + count * FRAME_MS / 1000 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            yield frame
