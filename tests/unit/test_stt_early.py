"""The decode at the speaker's pause (``stt.offline.EarlyDecode``), on a tone for speech.

A whole-utterance session with ``EarlyDecode`` decodes what it has once the speaker has been
quiet for ``after_ms``; ``finish`` answers with that transcript only when nothing loud came after.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from edge_assistant.audio import FRAME_BYTES, AudioSettings
from edge_assistant.audio.endpoint import Endpointer
from edge_assistant.events import Transcript
from edge_assistant.stt.guards import GuardSettings
from edge_assistant.stt.offline import Decoded, EarlyDecode, OfflineSession, to_transcript

pytestmark = pytest.mark.unit

RATE = 16000


def _quiet(ms: int) -> bytes:
    noise = np.random.default_rng(ms).normal(0, 30, RATE * ms // 1000)
    return bytes(noise.astype("<i2").tobytes())


def _speech(ms: int) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return bytes((8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())


class _Engine:
    """Decodes to the length of what it was given, in tenths of a second; records each call."""

    def __init__(self, fail_first: bool = False, hold: threading.Event | None = None) -> None:
        self.calls: list[float] = []
        self.ended: list[float] = []
        self.started: list[float] = []
        self.fail_first = fail_first
        self.hold = hold

    def decode(self, audio: np.ndarray) -> Transcript:
        self.started.append(time.perf_counter())
        self.calls.append(len(audio) / RATE)
        if self.hold is not None and len(self.calls) == 1:
            self.hold.wait(5)
        self.ended.append(time.perf_counter())
        if self.fail_first and len(self.calls) == 1:
            raise RuntimeError("the engine broke")
        words = f"heard {round(len(audio) / RATE * 10)}"
        return to_transcript(Decoded(words, 2, 0.0, -0.1), "fake", GuardSettings(), len(audio) / RATE)


def _feed(session: OfflineSession, pcm: bytes, chunk: int = FRAME_BYTES * 5) -> None:
    for i in range(0, len(pcm), chunk):
        session.accept(pcm[i : i + chunk])


def _wait_for(engine: _Engine, calls: int) -> None:
    deadline = time.monotonic() + 5
    while len(engine.ended) < calls and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_pause_is_decoded_before_the_end_and_that_transcript_answers() -> None:
    """Quiet for ``after_ms`` after speech starts a decode of what was said; the utterance then
    ends with nothing more said, and ``finish`` answers with it without decoding again."""
    engine = _Engine()
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(800) + _quiet(300))
    _wait_for(engine, 1)
    assert len(engine.calls) == 1  # before finish: 0.3 + 0.8 s and the pause of 0.2 s
    assert engine.calls[0] == pytest.approx(1.3, abs=0.11)
    _feed(session, _quiet(300))  # the rest of the endpointer's silence_ms
    transcript = session.finish()
    assert len(engine.calls) == 1
    assert transcript.text == "heard 13" and transcript.extra["decoded_early"] is True
    assert transcript.extra["early_decodes"] == 1 and "stt_cpu_s" in transcript.extra


def test_speech_after_the_pause_makes_it_stale_and_nothing_said_is_lost() -> None:
    """A word after the pause: the early transcript is dropped and the end hears everything."""
    engine = _Engine()
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(600) + _quiet(250))
    _wait_for(engine, 1)
    _feed(session, _speech(400) + _quiet(100))  # said more; quiet too short for another pause
    transcript = session.finish()
    assert len(engine.calls) == 2 and engine.calls[1] == pytest.approx(1.65, abs=0.03)
    assert transcript.text == "heard 16" and "decoded_early" not in transcript.extra
    assert transcript.extra["early_decodes"] == 1


def test_the_last_pause_answers_when_the_speaker_paused_twice() -> None:
    """Two pauses: the first decode goes stale, the second covers everything said."""
    engine = _Engine()
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(500) + _quiet(300))
    _wait_for(engine, 1)
    _feed(session, _speech(500) + _quiet(500))
    _wait_for(engine, 2)
    transcript = session.finish()
    assert len(engine.calls) == 2 and transcript.extra["decoded_early"] is True
    assert transcript.text == f"heard {round(engine.calls[1] * 10)}" and engine.calls[1] >= 1.8


def test_a_failed_early_decode_is_decoded_again_at_the_end() -> None:
    engine = _Engine(fail_first=True)
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(600) + _quiet(500))
    transcript = session.finish()
    assert len(engine.calls) == 2 and transcript.text == "heard 14"
    assert "decoded_early" not in transcript.extra


def test_a_stale_decode_still_running_is_waited_for_before_the_whole_one() -> None:
    """The engine decodes one utterance at a time: the end's decode starts after the stale one."""
    hold = threading.Event()
    engine = _Engine(hold=hold)
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(600) + _quiet(250) + _speech(300) + _quiet(100))
    assert len(engine.calls) == 1 and not engine.ended  # the early decode is held
    finished: list[Transcript] = []
    waiter = threading.Thread(target=lambda: finished.append(session.finish()))
    waiter.start()
    time.sleep(0.1)
    assert len(engine.calls) == 1 and not finished  # finish waits for the stale decode
    hold.set()
    waiter.join(5)
    assert len(engine.calls) == 2 and engine.started[1] >= engine.ended[0]
    assert finished[0].text == "heard 16"


def test_a_pause_while_a_decode_runs_is_decoded_after_it() -> None:
    """A slow engine (a Pi) is still on the first pause when the second comes: the newest audio
    is decoded next, and answers."""
    hold = threading.Event()
    engine = _Engine(hold=hold)
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(600) + _quiet(250) + _speech(300) + _quiet(500))
    assert len(engine.calls) == 1  # the second waits for the first
    hold.set()
    transcript = session.finish()
    assert len(engine.calls) == 2 and engine.started[1] >= engine.ended[0]
    assert transcript.extra["decoded_early"] is True and transcript.extra["early_decodes"] == 2
    assert transcript.text == f"heard {round(engine.calls[1] * 10)}" and engine.calls[1] >= 1.6


def test_a_waiting_decode_that_more_speech_makes_stale_never_runs() -> None:
    hold = threading.Event()
    engine = _Engine(hold=hold)
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(300) + _speech(600) + _quiet(250) + _speech(300) + _quiet(250) + _speech(300))
    _feed(session, _quiet(100))
    hold.set()
    transcript = session.finish()
    assert len(engine.calls) == 2 and engine.calls[1] == pytest.approx(2.1, abs=0.03)  # the first, the whole
    assert "decoded_early" not in transcript.extra and transcript.extra["early_decodes"] == 1


def test_quiet_before_any_speech_and_no_early_setting_decode_only_at_the_end() -> None:
    engine = _Engine()
    session = OfflineSession(engine.decode, EarlyDecode(200))
    _feed(session, _quiet(1500))  # no speech: no pause to decode at
    assert session.finish().text == "heard 15" and len(engine.calls) == 1
    plain = _Engine()
    session = OfflineSession(plain.decode, EarlyDecode(0))
    _feed(session, _quiet(300) + _speech(600) + _quiet(500))
    transcript = session.finish()
    assert len(plain.calls) == 1 and "early_decodes" not in transcript.extra


def test_the_pause_is_judged_with_the_endpointers_thresholds() -> None:
    """A higher ``threshold_db`` takes a quieter tone for no speech: no pause, no early decode."""
    engine = _Engine()
    soft = bytes((np.frombuffer(_speech(600), dtype="<i2") // 20).astype("<i2").tobytes())
    session = OfflineSession(engine.decode, EarlyDecode(200, AudioSettings(threshold_db=30.0)))
    _feed(session, _quiet(300) + soft + _quiet(500))
    assert session.finish().text == "heard 14" and len(engine.calls) == 1
    loose = _Engine()
    session = OfflineSession(loose.decode, EarlyDecode(200, AudioSettings(threshold_db=6.0)))
    _feed(session, _quiet(300) + soft + _quiet(500))
    assert session.finish().extra.get("decoded_early") is True


def test_the_endpointer_reports_how_long_the_speech_has_been_quiet() -> None:
    endpointer = Endpointer(AudioSettings())
    frames = _quiet(300) + _speech(400) + _quiet(100)
    quiet = [0]
    for i in range(0, len(frames), FRAME_BYTES):
        endpointer.push(frames[i : i + FRAME_BYTES])
        quiet.append(endpointer.quiet_ms)
    assert quiet[-1] == 100 and max(quiet[:-5]) == 0
