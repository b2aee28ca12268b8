"""End of utterance: an energy detector against an adaptive noise floor.

Speech starts once ``min_speech_ms`` of frames ``threshold_db`` above the noise floor fall within
a window of two and a half times that (fast speech in noise rises above the threshold syllable by
syllable, with dips between), and ends after ``silence_ms`` of trailing quiet or at
``max_utterance_s``. A loud frame holds the utterance open only when the median level of the
last 100 ms is loud too: steady noise has frames a few dB above its floor now and then, and one
of them must not hold an utterance open until its maximum length. A short pre-roll is kept so the
first phone is not cut. The quietest of the first 200 ms sets the noise floor. Push-to-talk replaces the detector
with explicit start/stop.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edge_assistant.audio import FRAME_MS, AudioSettings

__all__ = ["Endpointer", "Event", "frame_db"]

_PREROLL_MS = 500
_FLOOR_MIN_DB = 20.0
_WARMUP_FRAMES = 10
_START_WINDOW = 2.5  # the window in which min_speech_ms of loud frames start speech, in min_speech_ms
_QUIET_FRAMES = 5  # a loud frame goes on with the speech only while the median of this many is loud


def frame_db(frame: bytes) -> float:
    """RMS level of an S16LE frame in dB (full scale = 90.3 dB)."""
    samples = np.frombuffer(frame, dtype=np.int16).astype(np.float64)
    if samples.size == 0:
        return 0.0
    rms = math.sqrt(float(np.mean(samples * samples)))
    return 20.0 * math.log10(max(rms, 1.0))


@dataclass(frozen=True)
class Event:
    """What one frame did: ``start`` (with the pre-roll frames), ``audio``, ``end`` or ``none``."""

    kind: Literal["start", "audio", "end", "none"]
    frames: tuple[bytes, ...] = ()
    reason: str = ""


class Endpointer:
    """Splits a frame stream into utterances; feed every 20 ms frame to ``push``."""

    def __init__(self, settings: AudioSettings) -> None:
        self.settings = settings
        self.floor_db = 40.0
        self.in_speech = False
        needed = max(1, settings.min_speech_ms // FRAME_MS)
        self._needed = needed
        self._recent: deque[bool] = deque(maxlen=max(needed, round(needed * _START_WINDOW)))
        self._quiet = 0
        self._levels: deque[float] = deque(maxlen=_QUIET_FRAMES)
        self._warmup = _WARMUP_FRAMES
        self._last_db = self.floor_db
        self._length = 0
        self._pending: deque[bytes] = deque(maxlen=_PREROLL_MS // FRAME_MS)

    @property
    def quiet_ms(self) -> int:
        """How long the speech in progress has been quiet (0 outside speech, and on a loud frame)."""
        return self._quiet * FRAME_MS if self.in_speech else 0

    def push(self, frame: bytes) -> Event:
        """Classify one frame and advance the state machine."""
        level = frame_db(frame)
        self._levels.append(level)
        if self._warmup > 0:  # the quietest of the first frames sets the noise floor; nothing starts in them
            self._warmup -= 1
            self.floor_db = level if self._warmup == _WARMUP_FRAMES - 1 else min(self.floor_db, level)
            self._pending.append(frame)
            return Event("none")
        # Hysteresis: speech must rise ``threshold_db`` above the floor to start, and only half that
        # to go on, so weak final consonants in noise are kept.
        margin = self.settings.threshold_db / (2 if self.in_speech else 1)
        loud = level > self.floor_db + margin
        self._track_floor(level, loud)
        if not self.in_speech:
            return self._idle(frame, loud)
        self._length += 1
        # A loud frame goes on with the speech only when the last 100 ms are loud too (their median).
        still = loud and statistics.median(self._levels) > self.floor_db + margin
        self._quiet = 0 if still else self._quiet + 1
        if self._quiet * FRAME_MS >= self.settings.silence_ms:
            return self._end("silence")
        if self._length * FRAME_MS >= self.settings.max_utterance_s * 1000:
            return self._end("max length")
        return Event("audio", (frame,))

    def flush(self) -> Event:
        """The input ended: close an open utterance."""
        return self._end("end of input") if self.in_speech else Event("none")

    def _idle(self, frame: bytes, loud: bool) -> Event:
        self._pending.append(frame)
        self._recent.append(loud)
        if not loud or sum(self._recent) < self._needed:
            return Event("none")
        self._recent.clear()
        self.in_speech, self._length, self._quiet = True, len(self._pending), 0
        frames = tuple(self._pending)
        self._pending.clear()
        return Event("start", frames)

    def _end(self, reason: str) -> Event:
        self.in_speech = False
        self._length = 0
        if reason == "max length":  # probably a louder background now: move the floor towards it
            self.floor_db += 0.5 * (self._last_db - self.floor_db)
        return Event("end", reason=reason)

    def _track_floor(self, level: float, loud: bool) -> None:
        # A running mean of the frames that are not speech; during speech it may only fall, so a
        # long command does not lift it, but a lasting change of the background is followed.
        if not loud:
            rate = 0.3 if level < self.floor_db else 0.05
        elif not self.in_speech:
            rate = 0.0
        else:
            rate = 0.3 if level < self.floor_db else 0.0
        self.floor_db = max(_FLOOR_MIN_DB, self.floor_db + rate * (level - self.floor_db))
        self._last_db = level
