"""Noise suppression before endpointing and the speech engine: a streaming Wiener filter.

Short-time spectra (32 ms Hann windows, 16 ms hop, overlap-add) are scaled per frequency bin by a
Wiener gain from the decision-directed a-priori SNR (Ephraim and Malah), never below
``floor_db`` so the noise left is quiet but not warbling. The noise spectrum is tracked without
knowing where speech is (MCRA, Cohen and Berdugo 2002): a bin whose smoothed power stays near its
minimum of the last 3 s counts as noise and moves the estimate; where speech is likely, or a bin
jumps far over the noise (an onset), the estimate holds. Steady noise (fans, hum, pink noise) is
taken down by up to ``-floor_db``; in digital silence and clean speech the gain is 1, so clean
input passes unchanged.

``process`` returns as many samples as it is given, delayed by one window (32 ms). The first
window out is the first input turned down, never digital silence: zeros would pull the
endpointer's noise floor (and pocketsphinx's) far below the real one.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["NoiseSuppressor"]

_N = 512  # window (32 ms)
_HOP = 256  # hop (16 ms)
_WINDOW = np.sqrt(np.hanning(_N + 1)[:_N])  # analysis and synthesis: sums to 1 at 50% overlap
_DD_ALPHA = 0.98  # decision-directed smoothing of the a-priori SNR
_SMOOTH = 0.8  # time smoothing of the power for the minimum tracker
_SUB_WINDOW = 47  # frames (0.75 s); the minimum is taken over ``_SUB_WINDOWS`` of them (3 s)
_SUB_WINDOWS = 4
_PRESENCE_RATIO = 5.0  # smoothed power this far over its minimum: speech is likely there
_PRESENCE_SMOOTH = 0.2
_NOISE_ALPHA = 0.95  # noise update rate where speech is absent
_MIN_BIAS = 2.0  # the minimum of the smoothed power lies about this far below the noise mean
_WARMUP = 10  # frames (160 ms) averaged for the first noise estimate
_EPS = 1e-3


class NoiseSuppressor:
    """Streaming noise suppression of 16 kHz mono S16LE audio; one instance per input stream."""

    def __init__(self, floor_db: float = -20.0) -> None:
        self.floor = 10.0 ** (floor_db / 20.0)
        self._in = np.zeros(0)
        self._ola = np.zeros(_N)  # overlap-add accumulator
        self._out: np.ndarray | None = None  # samples ready to hand out, one window behind the input
        self._noise: np.ndarray | None = None
        self._smooth = self._min = self._tmp = self._presence = np.zeros(_N // 2 + 1)
        self._prev_clean = np.zeros(_N // 2 + 1)
        self._subs: deque[np.ndarray] = deque(maxlen=_SUB_WINDOWS)
        self._frames = 0

    @property
    def noise_power(self) -> np.ndarray | None:
        """The current noise power spectrum (None before the first frame)."""
        return self._noise

    def process(self, chunk: bytes) -> bytes:
        """Suppress noise in ``chunk``; the result has the same length, one window later."""
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.float64)
        if not samples.size:
            return b""
        if self._out is None:
            self._out = np.resize(samples, _N) * self.floor
        self._in = np.concatenate([self._in, samples])
        produced = []
        while self._in.size >= _N:
            produced.append(self._frame(self._in[:_N]))
            self._in = self._in[_HOP:]
        self._out = np.concatenate([self._out, *produced])
        out, self._out = self._out[: samples.size], self._out[samples.size :]
        return bytes(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes())

    def _frame(self, frame: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(frame * _WINDOW)
        power = spectrum.real**2 + spectrum.imag**2
        noise = self._track(power)
        gain = self._gain(power, noise)
        self._ola += np.fft.irfft(spectrum * gain, n=_N) * _WINDOW
        ready: np.ndarray = self._ola[:_HOP].copy()
        self._ola = np.concatenate([self._ola[_HOP:], np.zeros(_HOP)])
        return ready

    def _gain(self, power: np.ndarray, noise: np.ndarray) -> np.ndarray:
        posterior = power / noise
        prior = _DD_ALPHA * self._prev_clean / noise + (1 - _DD_ALPHA) * np.maximum(posterior - 1.0, 0.0)
        gain = np.maximum(prior / (1.0 + prior), self.floor)
        self._prev_clean = gain * gain * power
        return gain  # type: ignore[no-any-return]

    def _track(self, power: np.ndarray) -> np.ndarray:
        """MCRA: follow the noise where the power is near its recent minimum."""
        self._frames += 1
        if self._noise is None or self._frames <= _WARMUP:
            # The first frames are taken as background (as the endpointer does): their mean.
            mean = power if self._noise is None else self._noise + (power + _EPS - self._noise) / self._frames
            self._noise = mean + (_EPS if self._noise is None else 0.0)
            self._smooth, self._min, self._tmp = mean.copy(), mean.copy(), mean.copy()
            return self._noise
        self._smooth = _SMOOTH * self._smooth + (1 - _SMOOTH) * power
        self._tmp = np.minimum(self._tmp, self._smooth)
        if self._frames % _SUB_WINDOW == 0:  # the minimum over the last few sub-windows (Martin 2001)
            self._subs.append(self._tmp)
            self._tmp = self._smooth.copy()
        self._min = np.minimum(self._tmp, np.min(self._subs, axis=0)) if self._subs else self._tmp
        speech = self._smooth > _PRESENCE_RATIO * (self._min + _EPS)
        self._presence = _PRESENCE_SMOOTH * self._presence + (1 - _PRESENCE_SMOOTH) * speech
        # The smoothed presence lags a frame behind an onset; a bin far over the recent minimum now
        # is held outright, or the first frame of loud speech would leak into the estimate.
        onset = power > _PRESENCE_RATIO * np.maximum(self._noise, _MIN_BIAS * self._min)
        rate = np.where(onset, 1.0, _NOISE_ALPHA + (1 - _NOISE_ALPHA) * self._presence)
        self._noise = rate * self._noise + (1 - rate) * power + _EPS * (1 - rate)
        return self._noise
