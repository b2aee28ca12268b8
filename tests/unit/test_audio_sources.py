"""WAV, stdin and in-memory sources: format conversion, rejection of bad files, bounded memory."""

from __future__ import annotations

import asyncio
import io
import struct
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_assistant.audio import FRAME_BYTES, SAMPLE_RATE
from edge_assistant.audio.sources import Resampler, StdinSource, WavSource, to_mono_float
from edge_assistant.errors import AudioSourceError
from tests.support.synth import write_wav

pytestmark = pytest.mark.unit


def _collect(source: object) -> bytes:
    async def go() -> bytes:
        return b"".join([f async for f in source.frames()])  # type: ignore[attr-defined]

    return asyncio.run(go())


def _tone(rate: int, seconds: float, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(mono[:, None], channels, axis=1)


def _encode(samples: np.ndarray, width: int) -> bytes:
    if width == 1:
        return bytes((samples * 127 + 128).astype(np.uint8).tobytes())
    if width == 3:
        ints = (samples * (2**23 - 1)).astype("<i4").tobytes()
        return b"".join(ints[i : i + 3] for i in range(0, len(ints), 4))
    dtype = {2: "<i2", 4: "<i4"}[width]
    return bytes((samples * (2 ** (8 * width - 1) - 1)).astype(dtype).tobytes())


def _peak_hz(pcm: bytes) -> float:
    y = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(y))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(y))


@pytest.mark.parametrize(
    ("rate", "channels", "width"), [(8000, 1, 2), (22050, 2, 2), (44100, 1, 3), (48000, 2, 4), (11025, 1, 1)]
)
def test_wav_of_any_pcm_format_becomes_16k_mono_frames(tmp_path: Path, rate: int, channels: int, width: int) -> None:
    """Rate, channel count and sample width are converted; the pitch of a tone is kept."""
    path = write_wav(tmp_path / "t.wav", _encode(_tone(rate, 1.0, channels=channels), width), rate, channels, width)
    pcm = _collect(WavSource(path))
    assert len(pcm) % FRAME_BYTES == 0
    assert abs(len(pcm) / 2 - SAMPLE_RATE) <= FRAME_BYTES
    assert abs(_peak_hz(pcm) - 440.0) < 5.0


def test_float_wav_is_rejected_naming_the_expected_format(tmp_path: Path) -> None:
    """An IEEE-float WAV is refused with a message that says PCM is expected."""
    data = np.zeros(1600, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path = tmp_path / "float.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(AudioSourceError, match="PCM WAV"):
        WavSource(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """A 0-byte file gives a clear error, not a crash."""
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioSourceError, match="empty"):
        WavSource(path)


def test_text_file_is_an_error(tmp_path: Path) -> None:
    """A file that is not a WAV at all is refused."""
    path = tmp_path / "notes.wav"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(AudioSourceError, match="not a usable WAV") as raised:
        WavSource(path)
    assert "()" not in str(raised.value) and "RIFF" in str(raised.value)  # why, even for a short file


def test_truncated_wav_raises_after_its_audio(tmp_path: Path) -> None:
    """A file cut short of its declared length is reported as truncated."""
    path = write_wav(tmp_path / "t.wav", _encode(_tone(16000, 2.0), 2))
    path.write_bytes(path.read_bytes()[:30000])
    with pytest.raises(AudioSourceError, match="truncated"):
        _collect(WavSource(path))


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A path that does not exist is named in the error."""
    with pytest.raises(AudioSourceError, match="no such file"):
        WavSource(tmp_path / "nope.wav")


def test_ten_minute_wav_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """A 10-minute 48 kHz file (55 MB) is streamed: peak Python allocation stays far below its size."""
    path = tmp_path / "long.wav"
    block = _encode(_tone(48000, 10.0), 2)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(48000)
        for _ in range(60):
            writer.writeframes(block)

    async def count() -> int:
        n = 0
        async for frame in WavSource(path).frames():
            n += len(frame)
        return n

    tracemalloc.start()
    total = asyncio.run(count())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert abs(total - 600 * SAMPLE_RATE * 2) <= FRAME_BYTES
    assert peak < 8_000_000


def test_stdin_source_frames_raw_pcm_and_pads_the_tail() -> None:
    """Raw S16LE bytes come out unchanged in whole frames; the last partial frame is zero-padded."""
    data = bytes(range(256)) * 10
    pcm = _collect(StdinSource(io.BytesIO(data)))
    assert pcm[: len(data)] == data
    assert len(pcm) % FRAME_BYTES == 0
    assert set(pcm[len(data) :]) <= {0}


def test_resampler_is_continuous_across_blocks() -> None:
    """Feeding a tone in small blocks gives no jumps at block edges."""
    resampler = Resampler(44100)
    tone = _tone(44100, 1.0)[:, 0]
    out = b"".join(resampler.process(tone[i : i + 441]) for i in range(0, len(tone), 441))
    y = np.frombuffer(out, dtype="<i2") / 32767.0
    assert np.abs(np.diff(y)).max() < 0.1


def test_unsupported_sample_width_is_named() -> None:
    """A 5-byte sample width is refused with the widths that work."""
    with pytest.raises(AudioSourceError, match="40-bit"):
        to_mono_float(b"\0" * 10, 5, 1)


def test_stdin_that_stays_open_and_silent_does_not_keep_a_stopped_process() -> None:
    """A consumer of an idle, open stdin that is cancelled (SIGTERM to `satellite --stdin`) lets
    ``asyncio.run`` return at once; the read blocked in the loop's executor kept it waiting until
    the writer wrote or closed. Bytes written before still arrive as frames."""
    import asyncio
    import os
    import threading
    import time

    from edge_assistant.audio import FRAME_BYTES
    from edge_assistant.audio.sources import StdinSource

    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"\x01" * FRAME_BYTES * 10)  # ten frames, then nothing, and the pipe stays open
    got: list[bytes] = []
    stream = os.fdopen(read_fd, "rb", buffering=0)

    async def consume() -> None:
        async def take() -> None:
            async for frame in StdinSource(stream).frames():
                got.append(frame)

        task = asyncio.create_task(take())
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    done = threading.Event()

    def run() -> None:
        asyncio.run(consume())
        done.set()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        assert done.wait(5.0), "asyncio.run did not return while stdin stayed open"
        assert len(got) == 10
    finally:
        os.close(write_fd)  # the reader thread sees the end and stops
        time.sleep(0.2)
        stream.close()
