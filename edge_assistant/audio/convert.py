"""A stream of PCM chunks in any format -> 16 kHz mono S16LE, as the speech engines take it.

Network audio (Wyoming's ``audio-chunk``) states its rate, sample width and channel count per
chunk, and a chunk may end inside a sample frame. :class:`PcmConverter` keeps the partial frame
for the next chunk and the resampler's state across chunks, and starts over when the format
changes.
"""

from __future__ import annotations

from edge_assistant.audio.sources import Resampler, to_mono_float
from edge_assistant.errors import AudioSourceError

__all__ = ["MAX_CHANNELS", "MAX_RATE", "MIN_RATE", "PcmConverter", "check_format"]

MIN_RATE = 4000
MAX_RATE = 192000
MAX_CHANNELS = 8
_NATIVE = (16000, 2, 1)


def check_format(rate: object, width: object, channels: object) -> tuple[int, int, int]:
    """The format as integers, or ``AudioSourceError`` naming what is unusable."""
    for name, value, low, high in (
        ("rate", rate, MIN_RATE, MAX_RATE),
        ("width", width, 1, 4),
        ("channels", channels, 1, MAX_CHANNELS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise AudioSourceError(f"audio {name} {value!r} is not supported (an integer from {low} to {high})")
    return rate, width, channels  # type: ignore[return-value]


class PcmConverter:
    """Converts chunk after chunk; ``push`` returns the 16 kHz mono S16LE bytes ready so far."""

    def __init__(self) -> None:
        self._format: tuple[int, int, int] | None = None
        self._resampler: Resampler | None = None
        self._rest = b""

    def push(self, audio: bytes, rate: int, width: int, channels: int) -> bytes:
        """Convert ``audio`` given in ``rate`` Hz, ``width`` bytes per sample, ``channels`` interleaved."""
        fmt = check_format(rate, width, channels)
        if fmt != self._format or self._resampler is None:
            self._format, self._resampler, self._rest = fmt, Resampler(rate), b""
        data = self._rest + audio
        frame = width * channels
        usable = len(data) - len(data) % frame
        self._rest = data[usable:]
        if not usable:
            return b""
        if fmt == _NATIVE:  # the engines' own format (Home Assistant and satellites send it): as is
            return data[:usable]
        return self._resampler.process(to_mono_float(data[:usable], width, channels))
