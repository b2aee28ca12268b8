"""``edge-assistant import-home``: a home file from Home Assistant's template API.

A local HTTP server answers ``POST /api/template`` with what Home Assistant 2025.4.4 rendered for
this template on its demo entities (recorded from a real instance, cut down); the test checks the
request, the file written and the errors. The real instance run is in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.errors import HandlerError
from edge_assistant.handlers.settings import HomeAssistantSettings
from edge_assistant.home import load_home
from edge_assistant.homeimport import fetch_home, home_yaml

pytestmark = pytest.mark.unit
TOKEN = "long-lived-token"
# Home Assistant 2025.4.4's answer on its demo entities (one floor and two areas assigned by hand).
RENDERED = {
    "floors": [{"id": "upstairs", "name": "Upstairs"}],
    "areas": [
        {"id": "kitchen", "name": "Kitchen", "floor": None},
        {"id": "bedroom", "name": "Bedroom", "floor": "upstairs"},
    ],
    "entities": [
        {"id": "light.bed_light", "name": "Bed Light", "area": "bedroom", "device_class": None},
        {"id": "light.kitchen_lights", "name": "Kitchen Lights", "area": "kitchen", "device_class": None},
        {"id": "lock.front_door", "name": "Front Door", "area": None, "device_class": None},
        {"id": "sensor.outside_humidity", "name": "Outside Humidity", "area": None, "device_class": "humidity"},
        {"id": "sensor.sun_next_dawn", "name": "Sun Next dawn", "area": None, "device_class": "timestamp"},
        {"id": "cover.garage_door", "name": "Garage Door", "area": None, "device_class": "garage"},
    ],
}


class _HomeAssistant(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Template)
        self.templates: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Template(BaseHTTPRequestHandler):
    server: _HomeAssistant

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        """POST /api/template, with bearer auth: the rendered JSON as text, as Home Assistant answers."""
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        ok = self.path == "/api/template" and self.headers.get("Authorization") == f"Bearer {TOKEN}"
        if ok:
            self.server.templates.append(body["template"])
        data = json.dumps(RENDERED if ok else {"message": "401: Unauthorized"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def ha() -> Iterator[_HomeAssistant]:
    server = _HomeAssistant()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _settings(url: str, tmp_path: Path, token: str = TOKEN) -> HomeAssistantSettings:
    path = tmp_path / "token"
    path.write_text(token + "\n", encoding="utf-8")
    return HomeAssistantSettings(url=url, token_file=str(path), retries=0, request_timeout_s=2.0)


def test_the_home_file_holds_the_floors_areas_and_entities_home_assistant_has(
    ha: _HomeAssistant, tmp_path: Path
) -> None:
    import asyncio

    home_data = asyncio.run(fetch_home(_settings(ha.url, tmp_path)))
    path = tmp_path / "home.yaml"
    path.write_text(home_yaml(home_data, ha.url), encoding="utf-8")
    home = load_home(path)
    assert [f.name for f in home.floors] == ["Upstairs"]
    assert [(a.name, a.floor) for a in home.areas] == [("Kitchen", None), ("Bedroom", "upstairs")]
    assert [e.id for e in home.entities] == [
        "light.bed_light",
        "light.kitchen_lights",
        "lock.front_door",
        "sensor.outside_humidity",
        "cover.garage_door",
    ]  # a timestamp sensor is no reading anyone asks for
    area = home.area_of(home.entities_named("Bed Light")[0])
    assert area is not None and area.name == "Bedroom"
    assert home.entities_named("Garage Door")[0].device_class == "garage"
    [template] = ha.templates
    assert "area_id(s.entity_id)" in template and "floor_id(a)" in template and "'light'" in template


def test_the_command_writes_the_file_and_says_what_it_holds(ha: _HomeAssistant, tmp_path: Path) -> None:
    settings = _settings(ha.url, tmp_path)
    out = tmp_path / "home.yaml"
    argv = [sys.executable, "-m", "edge_assistant", "import-home", "--url", ha.url]
    argv += ["--token-file", settings.token_file, "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 floors, 2 areas, 5 entities" in done.stderr
    assert out.read_text(encoding="utf-8").startswith(f"# Imported from Home Assistant at {ha.url}")


def test_a_refused_token_and_an_absent_home_assistant_are_clear_errors(ha: _HomeAssistant, tmp_path: Path) -> None:
    import asyncio

    with pytest.raises(HandlerError, match="rejected the access token"):
        asyncio.run(fetch_home(_settings(ha.url, tmp_path, token="wrong")))
    with pytest.raises(HandlerError, match=r"Home Assistant at http://127\.0\.0\.1:9: cannot connect"):
        asyncio.run(fetch_home(_settings("http://127.0.0.1:9", tmp_path)))


def test_without_a_url_the_command_says_where_to_give_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edge_assistant", "import-home"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--url" in done.stderr
