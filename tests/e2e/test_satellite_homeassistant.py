"""`edge-assistant satellite --serve`: Home Assistant's Wyoming satellite entity connects to the satellite.

The test plays Home Assistant's side of the protocol with the wyoming package's own client, event
for event as Home Assistant's ``wyoming/assist_satellite.py`` sends them (describe, run-satellite,
pings; transcript, synthesize and the reply's audio per pipeline run; an error when nothing was
said; an announcement outside a run), and checks what the satellite process sends and prints.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.tts import Synthesize
from wyoming.wake import Detection

from tests.support.synth import espeak, write_wav
from tests.support.wyoming import CLI, free_port, spoken

pytestmark = pytest.mark.e2e


class HomeAssistant:
    """Home Assistant's end of a satellite connection: events read into a buffer, taken by type."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.client = AsyncTcpClient("127.0.0.1", port, connect_timeout=5, read_timeout=60)
        self.seen: list[Event] = []
        self._buffer: list[Event] = []

    async def connect(self, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
        """Connect as soon as the satellite listens (Home Assistant retries every few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                await self.client.connect()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def send(self, *events: Event) -> None:
        for event in events:
            await self.client.write_event(event)

    async def take(self, wanted: Callable[[str], bool]) -> Event:
        """The first event, buffered or next, whose type ``wanted`` accepts."""
        for i, buffered in enumerate(self._buffer):
            if wanted(buffered.type):
                return self._buffer.pop(i)
        while True:
            event = await self.client.read_event()
            assert event is not None, "the satellite closed the connection"
            self.seen.append(event)
            if wanted(event.type):
                return event
            self._buffer.append(event)

    async def utterance(self) -> tuple[RunPipeline, bytes]:
        """A pipeline run the satellite asked for and the audio it streamed until audio-stop."""
        run = RunPipeline.from_event(await self.take(RunPipeline.is_type))
        pcm = bytearray()
        while not AudioStop.is_type(
            (event := await self.take(lambda t: AudioChunk.is_type(t) or AudioStop.is_type(t))).type
        ):
            pcm += AudioChunk.from_event(event).audio
        return run, bytes(pcm)

    async def speak(self, pcm: bytes) -> None:
        """The reply's (or an announcement's) audio, in Home Assistant's 2048-byte chunks."""
        await self.send(AudioStart(rate=16000, width=2, channels=1).event())
        for i in range(0, len(pcm), 2048):
            await self.send(AudioChunk(rate=16000, width=2, channels=1, audio=pcm[i : i + 2048]).event())
        await self.send(AudioStop().event())


def satellite(tmp: Path, *args: str, config: str = "", verbose: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """A satellite process serving Home Assistant on a free loopback port (``verbose``: its INFO log too)."""
    port = free_port()
    cfg = tmp / "satellite.toml"
    cfg.write_text('[satellite]\nname = "kitchen"\n' + config, encoding="utf-8")
    process = subprocess.Popen(
        [*CLI, *(["-v"] if verbose else []), "satellite", "--config", str(cfg), "--serve", f"tcp://127.0.0.1:{port}",
         "--reply-dir", str(tmp), *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    return process, port


def feed(process: subprocess.Popen[bytes], pcm: bytes) -> None:
    """Write ``pcm`` to the satellite's stdin and close it."""
    assert process.stdin is not None
    process.stdin.write(pcm)
    process.stdin.close()


def finish(process: subprocess.Popen[bytes]) -> list[dict[str, object]]:
    """The satellite's JSON lines, once it has exited with status 0."""
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 0, err.decode()[-3000:]
    return [json.loads(line) for line in out.decode().splitlines()]


def test_home_assistant_runs_its_pipeline_on_each_utterance_and_the_reply_is_played(tmp_path: Path) -> None:
    """Two utterances on stdin: the first is transcribed, answered and its reply played (``played`` sent);
    the second, in which Home Assistant hears nothing, is no command and no error; an announcement is
    played too; pings are answered; the audio streamed is the utterance itself, cut from the input."""
    said = spoken("turn on the porch light")
    pcm = said + spoken("hello there")
    process, port = satellite(tmp_path, "--stdin")
    feeder = threading.Thread(target=feed, args=(process, pcm))  # the satellite reads once HA is there
    feeder.start()
    reply = espeak("Turned on the porch light.")

    async def home_assistant() -> tuple[Info, list[RunPipeline], list[bytes], int]:
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(Describe().event())
        info = Info.from_event(await ha.take(Info.is_type))
        await ha.send(Ping(text="one").event())
        assert Pong.from_event(await ha.take(Pong.is_type)).text == "one"
        await ha.send(RunSatellite().event())
        await ha.speak(espeak("The washing is done."))  # an announcement, outside any run
        await ha.take(Played.is_type)
        runs, audio = [], []
        run, heard = await ha.utterance()
        runs.append(run)
        audio.append(heard)
        await ha.send(Transcribe(language="en").event(), Transcript(text="turn on the porch light").event(),
                      Synthesize(text="Turned on the porch light.").event())  # fmt: skip
        await ha.speak(reply)
        await ha.take(Played.is_type)
        run, heard = await ha.utterance()
        runs.append(run)
        audio.append(heard)
        await ha.send(Error(text="No text recognized", code="stt-no-text-recognized").event())
        while await ha.client.read_event() is not None:  # until the satellite ends with its input
            pass
        return info, runs, audio, sum(1 for e in ha.seen if Played.is_type(e.type))

    info, runs, audio, played = asyncio.run(home_assistant())
    feeder.join(timeout=30)
    results = finish(process)

    assert info.satellite is not None and info.satellite.name == "kitchen" and info.satellite.installed
    assert [(r.start_stage.value, r.end_stage.value) for r in runs] == [("asr", "tts"), ("asr", "tts")]
    assert audio[0] in said and len(audio[0]) >= 0.8 * len(espeak("turn on the porch light"))
    assert audio[1] in pcm[len(said) :]
    assert played == 2
    first, second = results
    assert first["transcript"] == first["command"] == "turn on the porch light"
    # Home Assistant does not tell its satellite whether it acted: handled is unknown.
    assert first["handled"] is None and first["reply"] == "Turned on the porch light." and first["error"] is None
    assert "speech_end_to_handled" in first["timings_ms"]  # type: ignore[operator]
    assert second["transcript"] == "" and second["reason"] == "nothing heard" and second["error"] is None
    assert second["command"] is None
    replies = sorted(tmp_path.glob("reply-*.wav"))
    assert len(replies) == 2 and all(f.stat().st_size > 8000 for f in replies)


def test_with_a_wake_mode_home_assistant_listens_for_its_own_wake_word(tmp_path: Path) -> None:
    """``[audio] mode = "wake"``: each run starts at Home Assistant's wake word stage (the satellite has no
    engine to hear a phrase with), and Home Assistant's transcript is the command, not gated here. An
    utterance in which Home Assistant's wake engine hears nothing (its run ends there, silently) is no
    command, at once."""
    first = write_wav(tmp_path / "one.wav", spoken("okay nabu turn on the porch light"))
    second = write_wav(tmp_path / "two.wav", spoken("what a lovely day"))
    config = '[audio]\nmode = "wake"\nwake_phrase = "hey computer"\n'
    process, port = satellite(tmp_path, str(first), str(second), config=config)

    async def home_assistant() -> list[RunPipeline]:
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(RunSatellite().event())
        run, _ = await ha.utterance()
        await ha.send(Detection(name="ok_nabu").event(), Transcribe(language="en").event())
        await ha.send(Transcript(text="turn on the porch light").event(), Synthesize(text="Done.").event())
        await ha.speak(espeak("Done."))
        await ha.take(Played.is_type)
        other, _ = await ha.utterance()  # no detection follows: Home Assistant's run ends at the wake stage
        return [run, other]

    runs = asyncio.run(home_assistant())
    results = finish(process)
    assert [(r.start_stage.value, r.end_stage.value) for r in runs] == [("wake", "tts")] * 2
    assert results[0]["command"] == "turn on the porch light" and results[0]["reply"] == "Done.", results[0]["error"]
    # At once, not after a 15 s wait for a transcript that never comes (that would end in an error).
    assert (results[1]["command"], results[1]["error"], results[1]["reason"]) == (None, None, "nothing heard")


def test_a_pause_after_home_assistants_wake_word_keeps_the_command(tmp_path: Path) -> None:
    """ "Okay Nabu", a pause, "turn on the porch light": the pause ends the first utterance, in which
    Home Assistant heard its wake word and no command (``stt-no-text-recognized``). The command that
    follows starts at speech to text, as a satellite that heard the wake word itself sends it; it was
    a new run at the wake stage, with no wake word in it, and dropped. Later utterances start at the
    wake stage again."""
    wav = write_wav(tmp_path / "one.wav", spoken("okay nabu") + spoken("turn on the porch light"))
    later = write_wav(tmp_path / "two.wav", spoken("what a lovely day"))
    process, port = satellite(tmp_path, str(wav), str(later), config='[audio]\nmode = "wake"\n')

    async def home_assistant() -> list[RunPipeline]:
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(RunSatellite().event())
        woke, _ = await ha.utterance()
        await ha.send(Detection(name="ok_nabu").event(), Transcribe(language="en").event())
        await ha.send(Error(text="No text recognized", code="stt-no-text-recognized").event())
        command, _ = await ha.utterance()
        await ha.send(Transcribe(language="en").event(), Transcript(text="turn on the porch light").event())
        await ha.send(Synthesize(text="Done.").event())
        await ha.speak(espeak("Done."))
        await ha.take(Played.is_type)
        other, _ = await ha.utterance()
        return [woke, command, other]

    runs = asyncio.run(home_assistant())
    results = finish(process)
    assert [r.start_stage.value for r in runs] == ["wake", "asr", "wake"]
    assert [r["command"] for r in results] == [None, "turn on the porch light", None], results
    assert results[1]["reply"] == "Done." and results[1]["error"] is None


def test_another_satellite_waking_ends_the_utterance_at_once_and_without_an_error(tmp_path: Path) -> None:
    """Home Assistant's ``duplicate_wake_up_detected`` (another satellite heard the same wake word and
    answers) after the audio ends is no command and no error, at once; and a pipeline that never
    starts a wake stage (no wake word engine in it) is said in the log."""
    first = write_wav(tmp_path / "one.wav", spoken("okay nabu turn on the porch light"))
    second = write_wav(tmp_path / "two.wav", spoken("okay nabu turn on the porch light"))
    process, port = satellite(tmp_path, str(first), str(second), config='[audio]\nmode = "wake"\n', verbose=True)

    async def home_assistant() -> float:
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(RunSatellite().event())
        await ha.utterance()
        await ha.send(Error(text="Duplicate wake-up detected", code="duplicate_wake_up_detected").event())
        start = time.monotonic()
        await ha.utterance()  # nothing: no wake stage, no detection
        waited = time.monotonic() - start
        await asyncio.sleep(2.5)  # connected while the satellite waits out its grace for a detection
        return waited

    waited = asyncio.run(home_assistant())
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.wait(timeout=60)
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert process.returncode == 0 and waited < 1.4, (waited, err.decode()[-2000:])
    assert [(r["command"], r["error"], r["reason"]) for r in results] == [(None, None, "nothing heard")] * 2
    assert err.decode().count("started no wake word detection") == 1


def test_a_broken_peer_gets_an_error_and_home_assistant_is_served_after_it(tmp_path: Path) -> None:
    """A peer that sends a line that is no event gets an ``error`` event and is closed; the satellite
    goes on, and the Home Assistant that connects next runs the utterance."""
    wav = write_wav(tmp_path / "one.wav", spoken("turn on the porch light"))
    process, port = satellite(tmp_path, str(wav))

    async def peers() -> tuple[Event | None, RunPipeline]:
        broken = HomeAssistant(port)
        await broken.connect(process)
        await broken.client.write_event(Describe().event())  # answered, then the next line breaks it
        assert Info.is_type((await broken.take(Info.is_type)).type)
        assert broken.client._writer is not None
        broken.client._writer.write(b"this is no wyoming event\n")
        await broken.client._writer.drain()
        error = await broken.client.read_event()
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(RunSatellite().event())
        run, _ = await ha.utterance()
        await ha.send(Transcript(text="turn on the porch light").event(), Synthesize(text="Done.").event())
        await ha.speak(espeak("Done."))
        await ha.take(Played.is_type)
        return error, run

    error, run = asyncio.run(peers())
    (result,) = finish(process)
    assert error is not None and Error.from_event(error).code == "malformed-event"
    assert run.start_stage.value == "asr" and result["reply"] == "Done." and result["error"] is None


def test_without_home_assistant_a_file_run_fails_with_the_reason(tmp_path: Path) -> None:
    """Nobody connects within ``[satellite] timeout_s``: exit status 2 and the address in the error."""
    wav = write_wav(tmp_path / "one.wav", spoken("turn on the porch light"))
    process, port = satellite(tmp_path, str(wav), config="timeout_s = 1.5\n")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"Home Assistant did not connect to tcp://127.0.0.1:{port} within 1.5 s" in err.decode()


def test_stopped_while_waiting_for_home_assistant_it_exits_cleanly(tmp_path: Path) -> None:
    """SIGTERM before Home Assistant connects ends a file run with status 0 and its clean-up (the
    zeroconf goodbye on the LAN); it was killed by the signal, and Home Assistant kept offering a
    satellite that was gone."""
    import signal

    wav = write_wav(tmp_path / "one.wav", spoken("turn on the porch light"))
    process = subprocess.Popen(
        [*CLI, "-v", "satellite", "--serve", f"tcp://127.0.0.1:{free_port()}", "--reply-dir", str(tmp_path), str(wav)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"now stops the wait" not in seen and time.monotonic() < deadline:
        seen += process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, (seen + err).decode()[-3000:]
    assert b"stopped while waiting for Home Assistant" in seen + err


def test_systemd_allow_on_the_lan_needs_home_assistants_address(tmp_path: Path) -> None:
    """``--systemd-allow`` with a LAN address: refused without ``allow_clients``; with them, the drop-in
    lets Home Assistant's address and the mDNS group through, and nothing else."""
    cfg = tmp_path / "satellite.toml"
    cfg.write_text('[satellite]\nserve = "tcp://0.0.0.0:10700"\n', encoding="utf-8")
    done = subprocess.run([*CLI, "satellite", "--config", str(cfg), "--systemd-allow"], capture_output=True, text=True)
    assert done.returncode == 2 and "satellite.allow_clients" in done.stderr
    cfg.write_text('[satellite]\nserve = "tcp://0.0.0.0:10700"\nallow_clients = ["192.168.1.10"]\n', encoding="utf-8")
    done = subprocess.run([*CLI, "satellite", "--config", str(cfg), "--systemd-allow"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    allowed = [line for line in done.stdout.splitlines() if line.startswith("IPAddressAllow=")]
    assert allowed and {"192.168.1.10", "224.0.0.251"} <= set(" ".join(allowed).replace("IPAddressAllow=", " ").split())
    cfg.write_text('[satellite]\nallow_clients = ["192.168.1"]\n', encoding="utf-8")
    done = subprocess.run([*CLI, "satellite", "--config", str(cfg), "--systemd-allow"], capture_output=True, text=True)
    assert done.returncode == 2 and "allow_clients" in done.stderr and "192.168.1" in done.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))


def test_an_answer_without_a_voice_ends_the_utterance_without_waiting_for_one(tmp_path: Path) -> None:
    """Found against a real Home Assistant: "never mind" to its own agent has an empty answer, so its
    pipeline ends without ``synthesize`` and sends the satellite nothing more; the satellite waited a
    minute for reply audio. Now it waits ``timeout_s`` for ``synthesize`` and goes on, no error."""
    process, port = satellite(tmp_path, "--stdin", config="timeout_s = 2\n")
    feeder = threading.Thread(target=feed, args=(process, spoken("never mind")))
    feeder.start()

    async def home_assistant() -> float:
        ha = HomeAssistant(port)
        await ha.connect(process)
        await ha.send(RunSatellite().event())
        await ha.utterance()
        await ha.send(Transcribe(language="en").event(), Transcript(text="never mind").event())
        answered = time.monotonic()
        while await ha.client.read_event() is not None:  # until the satellite ends with its input
            pass
        return time.monotonic() - answered

    waited = asyncio.run(home_assistant())
    feeder.join(timeout=30)
    [result] = finish(process)
    assert (result["transcript"], result["reply"], result["error"], result["handled"]) == ("never mind", "", None, None)
    assert waited < 15
