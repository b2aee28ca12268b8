"""The http and homeassistant handlers against a local server that checks every request."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.config import Settings
from edge_assistant.dispatch import build_dispatcher
from edge_assistant.errors import HandlerError
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.home import Home, load_home

pytestmark = pytest.mark.unit
TOKEN = "s3cret-long-lived-token"


class FakeHomeAssistant(ThreadingHTTPServer):
    """Home Assistant's REST endpoints: services, states and the intent API, with bearer auth.

    ``fail_status`` makes every request answer that status; ``hang_s`` delays every answer.
    ``requests`` records (method, path, json body) of each authorised request.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Endpoint)
        self.states: dict[str, dict[str, Any]] = {
            "light.kitchen": {"state": "on", "attributes": {"friendly_name": "Kitchen Light"}},
            "lock.front_door": {"state": "locked", "attributes": {"friendly_name": "Front Door"}},
            "sensor.outside_temperature": {
                "state": "12",
                "attributes": {"friendly_name": "Outside Temperature", "unit_of_measurement": "°C"},
            },
        }
        self.requests: list[tuple[str, str, Any]] = []
        self.attempts = 0
        self.fail_status = 0
        self.hang_s = 0.0

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"


_NEW_STATE = {"turn_on": "on", "turn_off": "off", "lock": "locked", "unlock": "unlocked"}


class _Endpoint(BaseHTTPRequestHandler):
    server: FakeHomeAssistant

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _checked(self) -> Any:
        """The JSON body when the request is authorised and well formed, else None (answered)."""
        srv = self.server
        srv.attempts += 1
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if srv.hang_s:
            time.sleep(srv.hang_s)
        if srv.fail_status:
            self._send(srv.fail_status, {"message": "failure"})
            return None
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"message": "401: Unauthorized"})
            return None
        if self.command == "POST" and self.headers.get("Content-Type") != "application/json":
            self._send(400, {"message": "expected JSON"})
            return None
        body = json.loads(raw) if raw else None
        srv.requests.append((self.command, self.path, body))
        return body if body is not None else {}

    def do_GET(self) -> None:
        """GET /api/states/<entity_id>."""
        if self._checked() is None:
            return
        entity_id = self.path.removeprefix("/api/states/")
        if entity_id not in self.server.states:
            self._send(404, {"message": "Entity not found."})
            return
        self._send(200, {"entity_id": entity_id, **self.server.states[entity_id]})

    def do_POST(self) -> None:
        """POST /api/services/<domain>/<service> and /api/intent/handle."""
        body = self._checked()
        if body is None:
            return
        if self.path == "/api/intent/handle":
            speech = f"Handled {body['name']}"
            self._send(200, {"speech": {"plain": {"speech": speech}}, "card": {}})
            return
        parts = self.path.split("/")
        entity_id = body.get("entity_id")
        if len(parts) != 5 or parts[2] != "services" or entity_id not in self.server.states:
            self._send(400, {"message": f"bad service call {self.path} {body}"})
            return
        self.server.states[entity_id]["state"] = _NEW_STATE.get(parts[4], "changed")
        self._send(200, [{"entity_id": entity_id, **self.server.states[entity_id]}])


@pytest.fixture
def ha() -> Iterator[FakeHomeAssistant]:
    """A running fake Home Assistant."""
    server = FakeHomeAssistant()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


def result(text: str, intent: str, targets: list[str], **slots: Any) -> IntentResult:
    """A template-path parse."""
    return IntentResult(text=text, intent=intent, slots=slots, targets=targets, confidence=1.0, source="template")


OFF = result("turn off the kitchen light", "HassTurnOff", ["light.kitchen"], name="Kitchen Light")


def run(settings: Settings, home: Home, *results: IntentResult) -> list[list[ActionResult]]:
    """Dispatch each result in turn on one dispatcher and close it."""

    async def go() -> list[list[ActionResult]]:
        dispatcher = build_dispatcher(settings, home)
        try:
            return [await dispatcher.dispatch(r, f"u{i}") for i, r in enumerate(results)]
        finally:
            await dispatcher.aclose()

    return asyncio.run(go())


def ha_settings(server: FakeHomeAssistant, token_file: Path, **extra: Any) -> Settings:
    """Settings with the homeassistant handler pointed at ``server``."""
    section = {"url": server.url, "token_file": str(token_file), "request_timeout_s": 1.0, **extra}
    return Settings.model_validate({"handlers": {"homeassistant": section}})


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A file holding the access token."""
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def test_service_call_turns_off_the_entity(ha: FakeHomeAssistant, home: Home, token_file: Path) -> None:
    """Turning off a light POSTs light/turn_off with its entity_id and the bearer token."""
    [actions] = run(ha_settings(ha, token_file), home, OFF)
    assert ha.requests == [("POST", "/api/services/light/turn_off", {"entity_id": "light.kitchen"})]
    assert actions[0].ok and actions[0].entity == "light.kitchen"
    assert actions[0].reply == "Turned off the kitchen light" and ha.states["light.kitchen"]["state"] == "off"


def test_lock_is_unlocked_only_after_yes(ha: FakeHomeAssistant, home: Home, token_file: Path) -> None:
    """Unlocking asks first; the service is called only after the next utterance says yes."""
    unlock = result("unlock the front door", "HassTurnOff", ["lock.front_door"], name="Front Door")
    asked, done = run(ha_settings(ha, token_file), home, unlock, IntentResult(text="yes"))
    assert asked[0].status == "confirm" and asked[0].reply == "Are you sure you want to unlock the front door?"
    assert ha.requests == [("POST", "/api/services/lock/unlock", {"entity_id": "lock.front_door"})]
    assert done[0].ok and done[0].reply == "Unlocked the front door"


def test_state_question_reads_the_live_state(ha: FakeHomeAssistant, home: Home, token_file: Path) -> None:
    """A state question GETs the entity's state and says it with its unit."""
    question = result(
        "what is the outside temperature", "HassGetState", ["sensor.outside_temperature"], name="Outside Temperature"
    )
    [actions] = run(ha_settings(ha, token_file), home, question)
    assert ha.requests == [("GET", "/api/states/sensor.outside_temperature", None)]
    assert actions[0].reply == "The outside temperature is 12 °C"


def test_intent_without_service_uses_intent_api(ha: FakeHomeAssistant, home: Home, token_file: Path) -> None:
    """A timer goes to /api/intent/handle, and HA's speech becomes the reply."""
    [actions] = run(
        ha_settings(ha, token_file), home, result("set a timer for 5 minutes", "HassStartTimer", [], minutes=5)
    )
    assert ha.requests == [("POST", "/api/intent/handle", {"name": "HassStartTimer", "data": {"minutes": 5}})]
    assert actions[0].ok and actions[0].reply == "Handled HassStartTimer"


def test_401_is_reported_without_retry_or_token(
    ha: FakeHomeAssistant, home: Home, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong token: one attempt, a clear error, and the token appears in no result or log line."""
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")
    caplog.set_level(logging.DEBUG)
    [actions] = run(ha_settings(ha, wrong), home, OFF)
    assert ha.attempts == 1 and not actions[0].ok
    assert actions[0].error == "Home Assistant rejected the access token (HTTP 401)"
    assert "not-the-token" not in caplog.text + actions[0].model_dump_json()


def test_500_is_retried_then_reported(ha: FakeHomeAssistant, home: Home, token_file: Path) -> None:
    """HTTP 500: retried (retries = 2, so 3 attempts), then a failed action naming the status."""
    ha.fail_status = 500
    [actions] = run(ha_settings(ha, token_file, retries=2), home, OFF)
    assert ha.attempts == 3
    assert not actions[0].ok and "HTTP 500" in (actions[0].error or "")


def test_no_answer_times_out_and_the_dispatcher_keeps_serving(
    ha: FakeHomeAssistant, home: Home, token_file: Path
) -> None:
    """A server that never answers in time fails the call; the next command still goes through."""
    ha.hang_s = 1.5
    settings = ha_settings(ha, token_file, retries=1, request_timeout_s=0.3)

    async def go() -> tuple[list[ActionResult], list[ActionResult]]:
        dispatcher = build_dispatcher(settings, home)
        try:
            hung = await dispatcher.dispatch(OFF, "hung")
            ha.hang_s = 0.0
            await asyncio.sleep(1.5)  # let the stuck server threads finish
            return hung, await dispatcher.dispatch(OFF, "after")
        finally:
            await dispatcher.aclose()

    hung, after = asyncio.run(go())
    assert not hung[0].ok and "no answer within 0.3 s (after 2 attempts)" in (hung[0].error or "")
    assert after[0].ok


def test_missing_token_is_a_setup_error(ha: FakeHomeAssistant, home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """No token anywhere: HandlerError naming the variable, at build time."""
    monkeypatch.delenv("EA_TEST_NO_TOKEN", raising=False)
    settings = Settings.model_validate(
        {"handlers": {"homeassistant": {"url": ha.url, "token_env": "EA_TEST_NO_TOKEN"}}}
    )
    with pytest.raises(HandlerError, match="EA_TEST_NO_TOKEN"):
        build_dispatcher(settings, home)


class Webhook(ThreadingHTTPServer):
    """A webhook that records JSON bodies and answers ``statuses`` in turn (then 200)."""

    daemon_threads = True

    def __init__(self, statuses: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.statuses = statuses
        self.bodies: list[Any] = []


class _Hook(BaseHTTPRequestHandler):
    server: Webhook

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        """Record the body, answer the next status, with a reply on success."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append((self.path, self.headers.get("X-Key"), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        data = json.dumps({"reply": "Webhook did it"} if status == 200 else {}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_webhook_posts_json_and_retries_5xx(home: Home) -> None:
    """The webhook gets the intent as JSON with the configured header; a 503 is retried."""
    server = Webhook([503])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    settings = Settings.model_validate({"handlers": {"http": {"url": url, "headers": {"X-Key": "k1"}}}})
    [actions] = run(settings, home, OFF)
    server.shutdown()
    server.server_close()
    assert len(server.bodies) == 2 and server.bodies[1][:2] == ("/hook", "k1")
    assert server.bodies[1][2]["intent"] == "HassTurnOff" and server.bodies[1][2]["targets"] == ["light.kitchen"]
    assert actions[0].ok and actions[0].reply == "Webhook did it"


def test_webhook_down_is_reported(home: Home) -> None:
    """Nothing listening: a failed action that says the connection was refused."""
    from tests.support.broker import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    settings = Settings.model_validate({"handlers": {"http": {"url": url, "retries": 1}}})
    [actions] = run(settings, home, OFF)
    assert not actions[0].ok and "cannot connect" in (actions[0].error or "")


def test_tls_certificate_is_verified(home: Home, tmp_path: Path) -> None:
    """An HTTPS webhook with an untrusted certificate is refused; trusting its CA file works."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = Webhook([])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/hook"
    untrusted = Settings.model_validate({"handlers": {"http": {"url": url, "retries": 0}}})
    trusted = Settings.model_validate({"handlers": {"http": {"url": url, "ca_file": str(cert)}}})
    [refused] = run(untrusted, home, OFF)
    [accepted] = run(trusted, home, OFF)
    server.shutdown()
    server.server_close()
    assert not refused[0].ok and "certificate" in (refused[0].error or "")
    assert accepted[0].ok and len(server.bodies) == 1
