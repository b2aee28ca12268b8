"""The hub under hostile clients: each gets an error event and is closed; the others lose nothing."""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.handle import Handled
from wyoming.info import Describe

from tests.support.wyoming import HubProcess, ask, hub_process, run, spoken, transcribe

pytestmark = pytest.mark.e2e
LIMITS = """[stt]
engine = "pocketsphinx"
[wyoming]
asr_sessions = 2
idle_timeout_s = 2.0
max_events_per_s = 50.0
max_payload_bytes = 65536
max_clients = 12
"""
COMMANDS = ["turn on the porch light", "turn off the kitchen lights", "turn on the porch light"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, example_home_path: Path) -> Iterator[HubProcess]:
    """A hub with small limits: 2 s idle, 50 events/s, 64 KiB payloads, 12 clients."""
    with hub_process(tmp_path_factory.mktemp("fuzz"), example_home_path, LIMITS) as process:
        yield process


async def _raw(hub: HubProcess, wire: bytes, *, close: bool = False, wait: float = 15.0) -> Event | None:
    """Send ``wire`` on a bare socket; the hub's first error event (None if it closed without one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    try:
        writer.write(wire)
        await writer.drain()
        if close:
            return None
        return await asyncio.wait_for(_first_error(reader), wait)
    finally:
        writer.close()


async def _first_error(reader: asyncio.StreamReader) -> Event | None:
    while (event := await async_read_event(reader)) is not None:
        if Error.is_type(event.type):
            return event
    return None


def _code(event: Event | None) -> str | None:
    return Error.from_event(event).code if event is not None and Error.is_type(event.type) else None


async def _speaker(hub: HubProcess, name: str) -> list[str]:
    """A well-behaved client: three spoken commands, streamed in real time, each then handled."""
    replies = []
    async with AsyncTcpClient("127.0.0.1", hub.port, read_timeout=60) as c:
        for text in COMMANDS:
            heard = await transcribe(c, spoken(text), realtime=True)
            answer = await ask(c, Transcript(text=heard).event())
            replies.append(Handled.from_event(answer).text if Handled.is_type(answer.type) else f"{name}: {answer}")
    return [str(r) for r in replies]


async def _attacks(hub: HubProcess) -> dict[str, str | None]:
    rng = random.Random(16)
    noise = bytes(rng.getrandbits(8) for _ in range(4096))
    flood = b"".join(b'{"type": "describe"}\n' for _ in range(400))
    attacks = {
        "random bytes": _raw(hub, b"\n" + noise),
        "oversized payload": _raw(hub, b'{"type": "audio-chunk", "payload_length": 10000000}\n'),
        "length lie": _raw(hub, b'{"type": "audio-chunk", "payload_length": 5000}\n' + os.urandom(10)),
        "silent client": _raw(hub, b""),
        "event flood": _raw(hub, flood),
        "header in pieces": _dribble(hub),
        "bad audio format": _raw(hub, b'{"type": "audio-chunk", "data": {"rate": -5, "width": 2, "channels": 1}}\n'),
        "truncated header": _raw(hub, b'{"type": "transcri', close=True),
    }
    results = await asyncio.gather(*attacks.values())
    return {name: _code(event) for name, event in zip(attacks, results, strict=True)}


async def _dribble(hub: HubProcess) -> Event | None:
    """A valid header sent a byte every half second: slower than the idle timeout allows."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    answer = asyncio.create_task(_first_error(reader))
    try:
        for byte in b'{"type": "describe"}\n':
            if answer.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.5)
        return await asyncio.wait_for(answer, 5)
    finally:
        writer.close()


def test_hostile_clients_are_refused_and_speakers_lose_no_command(hub: HubProcess) -> None:
    """Random bytes, an oversized payload, a length lie, silence, a flood, a dribbled header, a bad audio
    format and a truncated header, all while two clients speak: each attacker gets its error code, and
    every spoken command of the two is transcribed, handled and acted on."""

    async def go() -> tuple[list[list[str]], dict[str, str | None]]:
        speakers = asyncio.gather(_speaker(hub, "a"), _speaker(hub, "b"))
        await asyncio.sleep(0.5)
        codes = await _attacks(hub)
        return list(await speakers), codes

    before = len(hub.logged())
    replies, codes = run(go())
    assert codes == {
        "random bytes": "malformed-event",
        "oversized payload": "event-too-large",
        "length lie": "slow-event",
        "silent client": "idle-timeout",
        "event flood": "too-many-events",
        "header in pieces": "idle-timeout",
        "bad audio format": "bad-audio",
        "truncated header": None,
    }
    expected = ["Turned on the porch light.", "Turned off the kitchen light.", "Turned on the porch light."]
    assert replies == [expected, expected]
    acted = [r["targets"][0] for r in hub.logged()[before:]]
    assert sorted(acted) == sorted(["light.porch", "light.kitchen", "light.porch"] * 2)
    assert hub.process.poll() is None


def test_clients_over_the_limit_are_refused_and_the_hub_serves_on(hub: HubProcess) -> None:
    """With 12 clients connected, the 13th gets too-many-clients; once they leave, a new one is served."""

    async def go() -> tuple[str | None, str]:
        held = [await asyncio.open_connection("127.0.0.1", hub.port) for _ in range(12)]
        await asyncio.sleep(0.2)
        refused = _code(await _raw(hub, b'{"type": "describe"}\n', wait=5))
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.5)
        async with AsyncTcpClient("127.0.0.1", hub.port, read_timeout=10) as c:
            served = (await ask(c, Describe().event())).type
        return refused, served

    assert run(go()) == ("too-many-clients", "info")
    log = hub.stderr.read_text(encoding="utf-8")
    assert "refused a connection" in log and "Traceback" not in log
    assert json.loads(hub.actions.read_text(encoding="utf-8").splitlines()[0])["intent"]
