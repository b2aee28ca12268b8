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
