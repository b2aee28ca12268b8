"""The mqtt handler against a real mosquitto: Hermes messages, entity topics, broker faults."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.config import Settings
from edge_assistant.dispatch import build_dispatcher
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.home import Home, load_home
from tests.support.broker import Collector, Mosquitto

pytestmark = pytest.mark.unit

TURN_OFF = IntentResult(
    text="turn off the kitchen lights",
    intent="HassTurnOff",
    slots={"name": "Kitchen Light"},
    targets=["light.kitchen"],
    confidence=1.0,
    source="template",
)
DIM = IntentResult(
    text="set the kitchen light to 30 percent",
    intent="HassLightSet",
    slots={"name": "Kitchen Light", "brightness": 30},
    targets=["light.kitchen"],
    confidence=0.85,
    source="model",
)


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


def settings(port: int, **mqtt: Any) -> Settings:
    """Settings with only an [handlers.mqtt] section."""
    return Settings.model_validate({"handlers": {"mqtt": {"host": "127.0.0.1", "port": port, **mqtt}}})


async def dispatch_all(dispatcher: Any, results: list[IntentResult]) -> list[list[ActionResult]]:
    """Dispatch each result concurrently, as utterance u0, u1, ..."""
    return list(await asyncio.gather(*(dispatcher.dispatch(r, f"u{i}") for i, r in enumerate(results))))


def test_minimal_config_publishes_hermes_intent(mosquitto: Mosquitto, home: Home) -> None:
    """A config with just host and port publishes hermes/intent/<Name> JSON that Rhasspy reads."""
    collector = Collector(mosquitto.port, "hermes/intent/#")

    async def go() -> list[ActionResult]:
        dispatcher = build_dispatcher(settings(mosquitto.port), home)
        try:
            return await dispatcher.dispatch(DIM, "utt-1")
        finally:
            await dispatcher.aclose()

    actions = asyncio.run(go())
    topic, payload = collector.wait_for(1)[0]
    collector.close()
    message = json.loads(payload)
    assert actions[0].ok and actions[0].handler == "mqtt"
    assert topic == "hermes/intent/HassLightSet"
    assert message["intent"] == {"intentName": "HassLightSet", "confidenceScore": 0.85}
    assert message["input"] == DIM.text and message["sessionId"] == "utt-1" and message["siteId"] == "default"
    slots = {s["slotName"]: s for s in message["slots"]}
    assert slots["brightness"]["value"] == {"kind": "Number", "value": 30}
    assert slots["name"]["value"]["value"] == "Kitchen Light"
    assert json.loads(message["customData"])["targets"] == ["light.kitchen"]


def test_entity_topic_gets_rendered_payload(mosquitto: Mosquitto, home: Home) -> None:
    """An entity with a topic gets its own message, slot placeholders filled with typed values."""
    collector = Collector(mosquitto.port, "zigbee/#")
    entity = {"topic": "zigbee/kitchen/set", "payloads": {"HassLightSet": {"brightness": "{brightness}"}}}
    config = settings(mosquitto.port, hermes=False, entities={"light.kitchen": entity})

    async def go() -> list[ActionResult]:
        dispatcher = build_dispatcher(config, home)
        try:
            return await dispatcher.dispatch(DIM, "u")
        finally:
            await dispatcher.aclose()

    actions = asyncio.run(go())
    messages = collector.wait_for(1)
    collector.close()
    assert [(a.entity, a.ok) for a in actions] == [("light.kitchen", True)]
    assert messages == [("zigbee/kitchen/set", b'{"brightness": 30}')]


def test_broker_down_at_start_reports_then_recovers(mosquitto: Mosquitto, home: Home) -> None:
    """With no broker a command fails with a reason; once the broker is up the next one is delivered."""
    collector = Collector(mosquitto.port, "hermes/intent/#")
    mosquitto.stop()

    async def go() -> tuple[list[ActionResult], list[ActionResult]]:
        dispatcher = build_dispatcher(settings(mosquitto.port, timeout_s=1.0, reconnect_max_s=0.5), home)
        try:
            first = await dispatcher.dispatch(TURN_OFF, "down")
            await asyncio.to_thread(mosquitto.start)
            second = await dispatcher.dispatch(DIM, "up")
            return first, second
        finally:
            await dispatcher.aclose()

    first, second = asyncio.run(go())
    messages = collector.wait_for(1)
    time.sleep(0.5)
    collector.close()
    assert not first[0].ok and "not acknowledged" in (first[0].error or "")
    assert first[0].reply == "Sorry, I could not turn off the kitchen light"
    assert second[0].ok
    # The failed command was withdrawn: it never fires late.
    assert [json.loads(p)["sessionId"] for _, p in collector.messages] == ["up"] and len(messages) == 1


def test_command_sent_while_broker_restarts_is_delivered(mosquitto: Mosquitto, home: Home) -> None:
    """Commands published while the broker is away are queued and delivered once it is back."""
    collector = Collector(mosquitto.port, "hermes/intent/#")

    async def go() -> list[list[ActionResult]]:
        dispatcher = build_dispatcher(settings(mosquitto.port, timeout_s=15.0, reconnect_max_s=0.5), home)
        try:
            before = await dispatcher.dispatch(TURN_OFF, "before")
            await asyncio.to_thread(mosquitto.stop)
            pending = asyncio.ensure_future(dispatch_all(dispatcher, [DIM] * 5))
            await asyncio.sleep(1.0)
            await asyncio.to_thread(mosquitto.start)
            return [before, *await pending]
        finally:
            await dispatcher.aclose()

    results = asyncio.run(go())
    messages = collector.wait_for(6, timeout=15)
    collector.close()
    assert all(r[0].ok for r in results), [r[0].error for r in results]
    assert sorted(json.loads(p)["sessionId"] for _, p in messages) == ["before", "u0", "u1", "u2", "u3", "u4"]


def test_bounded_queue_fails_overflow_at_once(mosquitto: Mosquitto, home: Home) -> None:
    """With the broker away, commands beyond queue_size fail at once with "queue full"."""
    mosquitto.stop()

    async def go() -> list[list[ActionResult]]:
        dispatcher = build_dispatcher(settings(mosquitto.port, timeout_s=1.0, queue_size=2), home)
        try:
            return await dispatch_all(dispatcher, [TURN_OFF] * 5)
        finally:
            await dispatcher.aclose()

    results = [r[0] for r in asyncio.run(go())]
    assert sum("queue full" in (r.error or "") for r in results) == 3
    assert not any(r.ok for r in results)


def test_qos0_waits_for_the_connection_or_reports(mosquitto: Mosquitto, home: Home) -> None:
    """QoS 0 has no acknowledgement: it is sent once connected, and fails when no broker comes."""
    collector = Collector(mosquitto.port, "hermes/intent/#")

    async def go() -> tuple[list[ActionResult], list[ActionResult]]:
        dispatcher = build_dispatcher(settings(mosquitto.port, qos=0, timeout_s=1.0), home)
        try:
            sent = await dispatcher.dispatch(TURN_OFF, "q0")
            await asyncio.to_thread(mosquitto.stop)
            await asyncio.sleep(0.3)
            return sent, await dispatcher.dispatch(TURN_OFF, "q1")
        finally:
            await dispatcher.aclose()

    sent, down = asyncio.run(go())
    messages = collector.wait_for(1)
    collector.close()
    assert sent[0].ok and json.loads(messages[0][1])["sessionId"] == "q0"
    assert not down[0].ok and "unreachable" in (down[0].error or "")


def test_broker_credentials_from_env(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker with a password file: the right password (from password_env) delivers, a wrong one
    is reported with the broker's refusal."""
    with Mosquitto(users={"edge": "right-pass"}) as broker:

        async def go(password: str) -> list[ActionResult]:
            monkeypatch.setenv("EA_TEST_MQTT_PASSWORD", password)
            config = settings(broker.port, username="edge", password_env="EA_TEST_MQTT_PASSWORD", timeout_s=1.5)
            dispatcher = build_dispatcher(config, home)
            try:
                return await dispatcher.dispatch(TURN_OFF, "auth")
            finally:
                await dispatcher.aclose()

        good, bad = asyncio.run(go("right-pass")), asyncio.run(go("wrong-pass"))
    assert good[0].ok
    assert not bad[0].ok and "refused the connection" in (bad[0].error or "")
