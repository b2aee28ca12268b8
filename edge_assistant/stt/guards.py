"""Guards for open-vocabulary transcripts: what an engine heard, or why it must not be acted on.

An open-vocabulary model always writes something. On silence, noise or music Whisper writes a
short stock phrase ("Thank you.", "you", "[Music]") or loops on one; on unclear speech it writes
a guess. Each check here turns such a transcript into a reason, and the engine then marks the
transcript ``in_grammar=False`` so the pipeline refuses it ("not a command") instead of acting.

The thresholds (``GuardSettings``) were measured on silence, sox noise, synthetic music and
speech (BENCHMARKS.md, "Open-vocabulary speech"): the defaults reject every noise and music clip
there and no command spoken clean or at 12 dB SNR.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

__all__ = ["GuardSettings", "compression_ratio", "looping", "rejection"]

# Whisper's subtitles-trained stock output on non-speech: bracketed or symbolic sound labels.
_SOUND_LABEL = re.compile(r"^\s*[\[(*♪♫].*[\])*♪♫]\s*$|^[\s♪♫.,!?-]*$")


@dataclass(frozen=True)
class GuardSettings:
    """Limits on an open-vocabulary transcript (``None`` turns a check off).

    ``no_speech_prob``: Whisper's probability that the audio holds no speech, above which the
    transcript is dropped. ``avg_logprob``: the mean log-probability of the text's tokens, below
    which it is a guess. ``compression_ratio``: the zlib ratio of the text, above which it loops
    (Whisper's own fallback threshold). ``max_tokens_per_s``: more tokens than this per second
    of audio is a loop or a hallucination (a command runs at 2 to 4).
    """

    no_speech_prob: float | None = 0.6
    avg_logprob: float | None = -1.0
    compression_ratio: float | None = 2.4
    max_tokens_per_s: float | None = 8.0


def compression_ratio(text: str) -> float:
    """zlib's compression ratio of ``text``: above ~2.4 the text repeats itself (Whisper's measure)."""
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw)))


def looping(text: str) -> bool:
    """True when the words of ``text`` repeat themselves back to back.

    One word three times in a row ("on on on"), or a run of two or more words twice in a row
    ("turn on the turn on the"): a decoder stuck in a loop, never a command (a person who
    repeats a command gets it done by the next one).
    """
    low = [re.sub(r"[^\w']", "", w.lower()) for w in text.split()]
    low = [w for w in low if w]
    for i in range(len(low) - 2):
        if low[i] == low[i + 1] == low[i + 2]:
            return True
    for size in range(2, len(low) // 2 + 1):
        for i in range(len(low) - 2 * size + 1):
            if low[i : i + size] == low[i + size : i + 2 * size]:
                return True
    return False


def rejection(
    text: str,
    limits: GuardSettings,
    *,
    audio_s: float,
    tokens: int = 0,
    no_speech_prob: float | None = None,
    avg_logprob: float | None = None,
) -> str | None:
    """Why ``text`` must not be acted on, or None when it passes every check.

    ``tokens``, ``no_speech_prob`` and ``avg_logprob`` are what the engine reports (an engine
    without one passes None and that check is skipped).
    """
    words = text.split()
    if not words:
        return "empty transcript"
    if _SOUND_LABEL.match(text):
        return f"a sound label, not speech: {text!r}"
    if limits.no_speech_prob is not None and no_speech_prob is not None and no_speech_prob > limits.no_speech_prob:
        return f"no speech (probability {no_speech_prob:.2f} > {limits.no_speech_prob})"
    if limits.avg_logprob is not None and avg_logprob is not None and avg_logprob < limits.avg_logprob:
        return f"low confidence (mean log-probability {avg_logprob:.2f} < {limits.avg_logprob})"
    if looping(text):
        return "the transcript repeats itself (a decoding loop)"
    if limits.compression_ratio is not None and compression_ratio(text) > limits.compression_ratio:
        return f"the transcript repeats itself (compression ratio > {limits.compression_ratio})"
    if limits.max_tokens_per_s is not None and tokens > max(8, limits.max_tokens_per_s * audio_s):
        return f"{tokens} tokens for {audio_s:.1f} s of audio (a loop or a hallucination)"
    return None
