"""The Wyoming hub with the default set-up: Whisper tiny.en hears, the intent model understands.

The protocol tests (tests/e2e/test_wyoming.py) pin the grammar engine to keep CI fast; this one
runs the hub as a user starts it, with no [stt] or model setting, and speaks natural phrasing no
template holds, which only the open-vocabulary engine and the model path can serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.info import Describe, Info

from tests.support.synth import piper, piper_voice, silence
from tests.support.wyoming import HubProcess, ask, hub_process, run, transcribe

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, example_home_path: Path) -> Iterator[HubProcess]:
    """The hub with the default engine and the default intent model."""
    with hub_process(tmp_path_factory.mktemp("hub"), example_home_path, templates_only=False) as process:
        yield process


def test_whisper_hears_natural_phrasing_and_the_model_handles_it(hub: HubProcess) -> None:
    """describe names Whisper; "could you switch off the porch light for me", spoken by Piper in
    chunks -> its transcript -> handled, and the porch light is turned off."""
    pcm = silence(500) + piper("could you switch off the porch light for me", piper_voice()) + silence(700)

    async def go() -> tuple[Info, str, Handled]:
        async with AsyncTcpClient("127.0.0.1", hub.port, connect_timeout=5, read_timeout=60) as c:
            info = Info.from_event(await ask(c, Describe().event()))
            text = await transcribe(c, pcm)
            return info, text, Handled.from_event(await ask(c, Transcript(text=text).event()))

    info, text, handled = run(go())
    assert "whisper" in info.asr[0].models[0].name
    assert "porch light" in text.lower(), text
    assert handled.text == "Turned off the porch light."
    assert any(r["targets"] == ["light.porch"] and r["intent"] == "HassTurnOff" for r in hub.logged())


REAL = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "real_speech_en" / "speech_to_phrase"


def test_a_name_the_beam_missed_is_weighed_on_the_audio_the_hub_heard(tmp_path: Path) -> None:
    """A real recording of "what's the temperature of the EcoBee", heard "... the incubi": the
    transcript the client gets is what was heard; handled on the same connection, the hub weighs
    the home's names on that audio and answers about the EcoBee."""
    if not (REAL / "fixtures_en.yaml").exists():
        pytest.skip("shared/benchmarks/real_speech_en is not beside the checkout")
    from tests.support.synth import wav_bytes_to_pcm

    pcm = wav_bytes_to_pcm((REAL / "what_s_the_temperature_of_the_ecobee.wav").read_bytes())

    async def go(port: int) -> tuple[str, Event]:
        async with AsyncTcpClient("127.0.0.1", port, connect_timeout=5, read_timeout=60) as c:
            text = await transcribe(c, pcm)
            return text, await ask(c, Transcript(text=text).event())

    with hub_process(tmp_path, REAL / "fixtures_en.yaml", templates_only=False) as process:
        text, answer = run(go(process.port))
        assert "ecobee" not in text.lower(), text  # what Whisper's beam heard
        assert Handled.is_type(answer.type), answer
        assert any(r["targets"] == ["climate.ecobee"] for r in process.logged())
