"""`edge-assistant wyoming` as a process, spoken to by the wyoming package's own client over loopback TCP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized, Recognize
from wyoming.tts import Synthesize

from edge_assistant import __version__
from tests.support.synth import write_wav
from tests.support.wyoming import CLI, HubProcess, ask, hub_process, run, spoken, transcribe

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, example_home_path: Path) -> Iterator[HubProcess]:
    """One hub for the module: two speech engines, espeak-ng for tts, the log handler writing to a file."""
    # The grammar engine: these tests are about the protocol, and it decodes in real time here.
    config = '[wyoming]\nasr_sessions = 2\n[tts]\nengine = "espeak-ng"\n[stt]\nengine = "pocketsphinx"\n'
    with hub_process(tmp_path_factory.mktemp("hub"), example_home_path, config) as process:
        yield process


def client(hub: HubProcess) -> AsyncTcpClient:
    """The wyoming package's TCP client, with a read timeout so that a silent hub fails the test."""
    return AsyncTcpClient("127.0.0.1", hub.port, connect_timeout=5, read_timeout=30)


def test_describe_lists_the_programs_with_attribution_version_languages_and_models(hub: HubProcess) -> None:
    """info: asr, handle, intent and tts, each installed, versioned, English, with a model or voice."""

    async def go() -> Info:
        async with client(hub) as c:
            return Info.from_event(await ask(c, Describe().event()))

    info = run(go())
    programs = [*info.asr, *info.handle, *info.intent, *info.tts]
    names = ["edge-assistant-asr", "edge-assistant", "edge-assistant-intent", "edge-assistant-tts"]
    assert [p.name for p in programs] == names
    assert all(p.installed and p.version == __version__ and p.attribution.name == "edge-assistant" for p in programs)
    assert info.asr[0].models[0].name == "pocketsphinx-grammar" and info.asr[0].models[0].languages == ["en"]
    assert info.handle[0].models[0].name == "templates only" and info.handle[0].supports_home_control
    assert info.tts[0].voices[0].attribution.name == "eSpeak NG" and info.tts[0].voices[0].languages == ["en"]


def test_synthesize_returns_the_reply_as_audio(hub: HubProcess) -> None:
    """synthesize -> audio-start, audio-chunks, audio-stop: about a second of speech in the stated format."""

    async def go() -> tuple[AudioStart, bytes]:
        async with client(hub) as c:
            await c.write_event(Synthesize(text="Turned on the porch light.").event())
            start = AudioStart.from_event(await c.read_event())
            audio = b""
            while not AudioStop.is_type((event := await c.read_event()).type):
                audio += AudioChunk.from_event(event).audio
            return start, audio

    start, audio = run(go())
    seconds = len(audio) / (start.rate * start.width * start.channels)
    assert start.width == 2 and start.channels == 1 and 0.8 < seconds < 4.0
    assert np.abs(np.frombuffer(audio, dtype="<i2")).max() > 1000


def test_a_spoken_command_in_chunks_of_another_format_is_transcribed_and_handled(hub: HubProcess) -> None:
    """Stereo 32-bit audio in 100 ms chunks -> the transcript -> handled, and the handler acted.

    (Other rates are converted by the same code: tests/unit/test_audio_convert_wake.py.)
    """
    mono = np.frombuffer(spoken("turn on the porch light"), dtype="<i2").astype("<i4") * 65536
    stereo = np.repeat(mono[:, None], 2, axis=1).tobytes()

    async def go() -> tuple[str, Handled]:
        async with client(hub) as c:
            text = await transcribe(c, stereo, width=4, channels=2)
            return text, Handled.from_event(await ask(c, Transcript(text=text).event()))

    text, handled = run(go())
    assert text == "turn on the porch light"
    assert handled.text == "Turned on the porch light."
    assert any(r["targets"] == ["light.porch"] and r["intent"] == "HassTurnOn" for r in hub.logged())


def test_audio_sent_faster_than_spoken_in_10_ms_chunks_is_transcribed(hub: HubProcess) -> None:
    """Home Assistant forwards audio in 10 ms chunks (100 events per second of speech) and sends what
    it has buffered at once: 9 s of it in a burst closed the connection (too-many-events) when each
    chunk cost a whole event of the rate limit. Found against a real Home Assistant 2025.4."""
    command = spoken("turn on the porch light")
    pcm = command + spoken("")[:32000] * 6  # about 9 s, the command first

    async def go() -> tuple[str, str]:
        async with client(hub) as c:
            # One utterance first: pocketsphinx (this module's engine) hears a cold first utterance
            # padded with seconds of noise as nothing, as it would at any pace.
            warm = await transcribe(c, command)
            return warm, await transcribe(c, pcm, chunk_s=0.01)

    assert run(go()) == ("turn on the porch light", "turn on the porch light")


def test_recognize_returns_the_intent_with_slots_and_targets_or_not_recognized(hub: HubProcess) -> None:
    """intent: name, slot entities and the target entity ids; an off-topic text is not-recognized with the reason."""

    async def go() -> tuple[Intent, NotRecognized]:
        async with client(hub) as c:
            intent = Intent.from_event(await ask(c, Recognize(text="set the kitchen light to 30 percent").event()))
            missed = NotRecognized.from_event(await ask(c, Recognize(text="what is the meaning of life").event()))
            return intent, missed

    intent, missed = run(go())
    entities = {e.name: e.value for e in intent.entities}
    assert intent.name == "HassLightSet"
    assert entities == {"name": "Kitchen Light", "brightness": 30, "targets": ["light.kitchen"]}
    assert missed.text and "no template matched" in missed.text


def test_a_confirmation_spans_two_transcripts_of_one_client_and_not_another(hub: HubProcess) -> None:
    """Another client's "yes" does not answer the question; the asking client's "yes" runs the command."""

    async def go() -> list[str]:
        async with client(hub) as asker, client(hub) as other:
            question = Handled.from_event(await ask(asker, Transcript(text="unlock the front door").event()))
            stranger = await ask(other, Transcript(text="yes").event())
            answer = Handled.from_event(await ask(asker, Transcript(text="yes").event()))
            return [str(question.text), stranger.type, str(stranger.data.get("text")), str(answer.text)]

    before = len([r for r in hub.logged() if r["targets"] == ["lock.front_door"]])
    question, stranger, stranger_text, answer = run(go())
    assert question == "Are you sure you want to unlock the front door?"
    assert (stranger, stranger_text) == ("not-handled", "There is nothing to confirm.")
    assert answer == "Unlocked the front door."
    assert len([r for r in hub.logged() if r["targets"] == ["lock.front_door"]]) == before + 1


def test_an_off_topic_transcript_is_not_handled_and_nothing_acts(hub: HubProcess) -> None:
    """not-handled with the reason as text; the log handler wrote nothing for it."""

    async def go() -> NotHandled:
        async with client(hub) as c:
            return NotHandled.from_event(await ask(c, Transcript(text="what is the meaning of life").event()))

    before = len(hub.logged())
    answer = run(go())
    assert answer.text == "Sorry, I didn't understand that."
    assert len(hub.logged()) == before


def test_two_clients_speaking_at_once_are_both_served(hub: HubProcess) -> None:
    """Two connections stream their commands at the same time, in real time: each gets its own transcript."""
    said = ["turn on the porch light", "turn off the kitchen lights"]

    async def one(text: str) -> str:
        async with client(hub) as c:
            return await transcribe(c, spoken(text), realtime=True)

    async def both() -> list[str]:
        return list(await asyncio.gather(*(one(t) for t in said)))

    assert run(both()) == said


# The satellite runs with the intent parser, its template matcher and the language model unimportable.
WITHOUT_PARSER = """
import sys

REFUSED = ("edge_assistant.nlu.parser", "edge_assistant.nlu.templates", "edge_assistant.nlu.llm", "llama_cpp", "hassil")

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name in REFUSED or name.split(".")[0] in REFUSED:
            raise ImportError(f"the satellite imported {name}")

sys.meta_path.insert(0, Refuse())
from edge_assistant.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_satellite_process_fed_pcm_on_stdin_drives_the_hub(hub: HubProcess, tmp_path: Path) -> None:
    """`satellite --stdin`, with no parser or model importable: three utterances -> the hub; the porch
    light and, after its yes, the lock act; each result has the hub's transcript, reply and timings."""
    pcm = b"".join(spoken(text) for text in ["turn on the porch light", "unlock the front door", "yes"])
    before = len(hub.logged())
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PARSER, "satellite", "--hub", hub.uri, "--stdin", "--name", "kitchen",
         "--reply-dir", str(tmp_path)],
        input=pcm, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["command"] for r in results] == ["turn on the porch light", "unlock the front door", "yes"]
    replies = [r["reply"] for r in results][1:]
    assert replies == ["Are you sure you want to unlock the front door?", "Unlocked the front door."]
    assert all(r["handled"] and r["error"] is None and "speech_end_to_handled" in r["timings_ms"] for r in results)
    acted = [r["targets"] for r in hub.logged()[before:]]
    assert acted == [["light.porch"], ["lock.front_door"]]
    spoken_replies = sorted(tmp_path.glob("reply-*.wav"))  # the hub's tts, played into files
    assert len(spoken_replies) == 3 and all(f.stat().st_size > 16000 for f in spoken_replies)


def test_a_satellite_in_a_room_turns_off_that_room_s_lights(hub: HubProcess, tmp_path: Path) -> None:
    """`[satellite] area = "kitchen"`: "turn off the lights" from it acts on the kitchen's lights only
    (without a room no template of the hub holds it)."""
    config = tmp_path / "satellite.toml"
    config.write_text('[satellite]\narea = "kitchen"\nspeak = "none"\n', encoding="utf-8")
    before = len(hub.logged())
    done = subprocess.run(
        [*CLI, "satellite", "--config", str(config), "--hub", hub.uri, "--stdin", "--name", "kitchen-sat"],
        input=spoken("turn off the lights"), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["handled"], result
    assert [sorted(r["targets"]) for r in hub.logged()[before:]] == [["light.kitchen", "light.kitchen_counter"]]


def test_a_satellite_without_a_hub_fails_with_the_reason(tmp_path: Path) -> None:
    """No hub listening: exit status 2 and an error naming the address."""
    from tests.support.wyoming import free_port

    wav = tmp_path / "one.wav"
    write_wav(wav, spoken("turn on the porch light"))
    uri = f"tcp://127.0.0.1:{free_port()}"
    done = subprocess.run([*CLI, "satellite", "--hub", uri, str(wav)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"cannot reach the hub at {uri}" in done.stderr
