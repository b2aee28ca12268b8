"""The ``mqtt`` handler: Hermes intent messages and per-entity command topics, over paho-mqtt.

Every intent is published to ``hermes/intent/<IntentName>`` as the Hermes JSON that Rhasspy and
Snips consumers and Node-RED flows read (``intent.intentName``, ``slots[].value.value`` ...);
entities listed under ``[handlers.mqtt.entities]`` also get their own topic and payload.

Delivery: QoS 1 by default, so a command counts as delivered when the broker acknowledges it.
paho's network thread reconnects with exponential backoff (``reconnect_min_s`` to
``reconnect_max_s``) and keeps unacknowledged messages, re-sending them after a reconnect; at most
``queue_size`` wait at once. A message not acknowledged within the handler's time is withdrawn (so
a stale command never fires later) and reported as failed: each is delivered or reported failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from typing import Any

from edge_assistant.errors import BackendMissingError, HandlerError
from edge_assistant.handlers.base import Call, Command, Outcome, TemplateError, entity_keys, intent_keys, render
from edge_assistant.handlers.settings import MqttSettings

__all__ = ["MqttHandler", "hermes_payload"]

log = logging.getLogger(__name__)


def _slot(name: str, value: Any, text: str) -> dict[str, Any]:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    raw = str(value)
    slot: dict[str, Any] = {
        "entity": name,
        "slotName": name,
        "rawValue": raw,
        "value": {"kind": "Number" if is_number else "Custom", "value": value},
        "confidence": 1.0,
    }
    start = text.lower().find(raw.lower())
    if start >= 0:
        end = start + len(raw)
        slot["range"] = {"start": start, "end": end, "rawStart": start, "rawEnd": end}
    return slot


def hermes_payload(command: Command, site_id: str = "default") -> dict[str, Any]:
    """The Hermes ``hermes/intent/<Name>`` message of ``command`` (Rhasspy/Snips NluIntent shape)."""
    return {
        "input": command.text,
        "rawInput": command.text,
        "intent": {"intentName": command.intent, "confidenceScore": command.confidence},
        # A slot with several values (two names in one command) is one Hermes slot per value.
        "slots": [
            _slot(k, one, command.text) for k, v in command.slots.items() for one in (v if isinstance(v, list) else [v])
        ],
        "siteId": site_id,
        "sessionId": command.utterance_id,
        "id": command.utterance_id,
        "customData": json.dumps({"targets": list(command.targets), "source": command.source}),
        "asrTokens": [],
        "asrConfidence": None,
        "wakewordId": None,
        "lang": None,
    }


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _encode(payload: Any) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else json.dumps(payload).encode("utf-8")


class MqttHandler:
    """Publishes Hermes intents and entity commands; survives a broker that is down or restarts."""

    def __init__(self, settings: MqttSettings, name: str = "mqtt") -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError as exc:
            raise BackendMissingError("paho.mqtt", "mqtt") from exc
        self.name = name
        self.settings = settings
        self._mqtt = mqtt
        self._lock = threading.Lock()
        self._futures: dict[int, asyncio.Future[None]] = {}
        self._acked: set[int] = set()
        self._connected = threading.Event()
        self._last_error = "not connected yet"
        self._client = self._make_client()
        self._client.connect_async(settings.host, settings.port, keepalive=30)
        self._client.loop_start()

    def _make_client(self) -> Any:
        s, mqtt = self.settings, self._mqtt
        client_id = s.client_id or f"edge-assistant-{uuid.uuid4().hex[:10]}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if s.username:
            password = os.environ.get(s.password_env) if s.password_env else None
            if s.password_env and password is None:
                raise HandlerError(f"[handlers.mqtt] password_env: the variable {s.password_env} is not set")
            client.username_pw_set(s.username, password)
        if s.tls:
            client.tls_set(ca_certs=s.ca_file or None)
        # paho sleeps whole seconds only in name: the delay is a float in its loop.
        client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
        client.max_queued_messages_set(s.queue_size)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_publish = self._on_publish
        return client

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._last_error = f"the broker refused the connection: {reason}"
            return
        self._connected.set()
        log.info("mqtt: connected to %s:%s", self.settings.host, self.settings.port)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected:  # after a refused CONNECT, the refusal is the reason worth reporting
            self._last_error = f"connection lost ({reason})"
        log.warning("mqtt: disconnected from %s:%s: %s", self.settings.host, self.settings.port, reason)

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._last_error = "cannot connect"

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            self._acked.add(mid)
            future = self._futures.pop(mid, None)
        if future is not None:
            future.get_loop().call_soon_threadsafe(_resolve, future)

    def keys(self, command: Command) -> list[str | None]:
        """One Hermes message per intent (when ``hermes``) plus one call per entity with a topic."""
        first: list[str | None] = intent_keys(self.settings, command) if self.settings.hermes else []
        return first + list(entity_keys(self.settings, command, self.settings.entities))

    def _message(self, call: Call) -> tuple[str, bytes, bool]:
        if call.entity is None:
            topic = f"{self.settings.hermes_prefix.rstrip('/')}/{call.command.intent}"
            return topic, _encode(hermes_payload(call.command, self.settings.site_id)), False
        entity = self.settings.entities[call.entity]
        template = entity.payloads.get(call.command.intent)
        payload = call.payload() if template is None else render(template, call.values())
        return entity.topic, _encode(payload), entity.retain

    async def handle(self, call: Call) -> Outcome:
        """Publish and wait for the broker's acknowledgement (QoS 1/2) or the connection (QoS 0)."""
        try:
            topic, payload, retain = self._message(call)
        except TemplateError as exc:
            return Outcome(ok=False, error=f"payload for {call.entity}: {exc}")
        deadline = time.monotonic() + self.settings.timeout_s * 0.9
        if self.settings.qos == 0:
            return await self._publish_qos0(topic, payload, retain, deadline)
        return await self._publish_acked(topic, payload, retain, deadline)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def _publish_qos0(self, topic: str, payload: bytes, retain: bool, deadline: float) -> Outcome:
        while not self._connected.is_set():
            if time.monotonic() >= deadline:
                return Outcome(ok=False, error=f"broker {self._where()} unreachable: {self._last_error}")
            await asyncio.sleep(0.05)
        info = self._client.publish(topic, payload, qos=0, retain=retain)
        if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
            return Outcome(ok=False, error=f"publish to {topic} failed: {self._mqtt.error_string(info.rc)}")
        return Outcome()

    async def _publish_acked(self, topic: str, payload: bytes, retain: bool, deadline: float) -> Outcome:
        info = self._client.publish(topic, payload, qos=self.settings.qos, retain=retain)
        if info.rc == self._mqtt.MQTT_ERR_QUEUE_SIZE:
            return Outcome(ok=False, error=f"queue full: {self.settings.queue_size} messages wait for {self._where()}")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if info.mid in self._acked:
                self._acked.discard(info.mid)
                return Outcome()
            self._futures[info.mid] = future
        try:
            await asyncio.wait_for(future, max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            if self._withdraw(info.mid):  # acknowledged in the same instant
                return Outcome()
            state = "connected" if self._connected.is_set() else self._last_error
            return Outcome(ok=False, error=f"not acknowledged by broker {self._where()} in time ({state})")
        finally:
            self._withdraw(info.mid)
        return Outcome()

    def _withdraw(self, mid: int) -> bool:
        """Forget ``mid`` and take it out of paho's queue (so it is never sent late); True if acked."""
        with self._lock:
            self._futures.pop(mid, None)
            acked = mid in self._acked
            self._acked.discard(mid)
        if acked:
            return True
        # paho has no public way to cancel a queued message; without this a command reported
        # as failed could still fire minutes later when the broker comes back.
        mutex = getattr(self._client, "_out_message_mutex", None)
        queue = getattr(self._client, "_out_messages", None)
        if mutex is None or queue is None:
            return False
        waiting = {getattr(self._mqtt, n, None) for n in ("mqtt_ms_wait_for_puback", "mqtt_ms_wait_for_pubrec")}
        with mutex:
            message = queue.pop(mid, None)
            if message is not None and message.state in waiting and self._client._inflight_messages > 0:
                self._client._inflight_messages -= 1
        return False

    def close_sync(self) -> None:
        """Disconnect and stop the network thread (blocking)."""
        self._client.disconnect()
        self._client.loop_stop()

    async def aclose(self) -> None:
        """Wait briefly for messages still in flight, then disconnect."""
        end = time.monotonic() + self.settings.timeout_s
        while self._futures and time.monotonic() < end:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(self.close_sync)
