"""A home file from a running Home Assistant: ``edge-assistant import-home``.

The hub hears best the names its home file lists (they bias the speech engine and make the
grammar), so a hub that serves Home Assistant, or acts on its devices through
``[handlers.homeassistant]``, should know Home Assistant's names. This reads them in one request
to Home Assistant's REST API (``POST /api/template``, the same URL and token as
``[handlers.homeassistant]``): its floors, its areas and the entities of the domains the catalog
acts on or asks about, each with its area and device class, and writes them as a home file.

Sensors that hold no reading a person asks for (timestamps, enumerations, dates) are left out.
Entity aliases live in Home Assistant's entity registry, which the template API does not show:
add them to the file by hand (``aliases:``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml

from edge_assistant.errors import HandlerError
from edge_assistant.handlers._http import HttpClient
from edge_assistant.handlers.homeassistant import read_token
from edge_assistant.handlers.settings import HomeAssistantSettings
from edge_assistant.home import Home

__all__ = ["DOMAINS", "fetch_home", "home_yaml", "import_home"]

# The domains the built-in catalog acts on or asks about.
DOMAINS = (
    "light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum", "valve", "sensor",
    "binary_sensor", "scene", "script", "input_boolean", "todo", "weather",
)  # fmt: skip
# Sensor classes that are no reading a person asks for by voice.
_SKIPPED_CLASSES = ("timestamp", "enum", "date")

_TEMPLATE = """
{%- set ns = namespace(floors=[], areas=[], entities=[]) -%}
{%- for f in floors() -%}{%- set ns.floors = ns.floors + [{"id": f, "name": floor_name(f)}] -%}{%- endfor -%}
{%- for a in areas() -%}
{%- set ns.areas = ns.areas + [{"id": a, "name": area_name(a), "floor": floor_id(a)}] -%}
{%- endfor -%}
{%- for s in states if s.domain in DOMAINS -%}
{%- set ns.entities = ns.entities + [{"id": s.entity_id, "name": s.name, "area": area_id(s.entity_id),
    "device_class": s.attributes.get("device_class")}] -%}
{%- endfor -%}
{{ {"floors": ns.floors, "areas": ns.areas, "entities": ns.entities} | tojson }}
"""


def _template() -> str:
    return _TEMPLATE.replace("DOMAINS", repr(list(DOMAINS)))


async def fetch_home(settings: HomeAssistantSettings) -> dict[str, Any]:
    """Home Assistant's floors, areas and entities as a home file's data (checked as a ``Home``)."""
    headers = {"Authorization": f"Bearer {read_token(settings)}"}
    client = HttpClient(headers, settings.request_timeout_s, settings.retries, settings.ca_file)
    url = f"{settings.url.rstrip('/')}/api/template"
    answer = await client.request("POST", url, {"template": _template()})
    if isinstance(answer, str):
        raise HandlerError(f"Home Assistant at {settings.url}: {answer}")
    if answer.status == 401:
        raise HandlerError(f"Home Assistant at {settings.url} rejected the access token (HTTP 401)")
    data = answer.json()
    if answer.status != 200 or not isinstance(data, dict):
        detail = answer.body[:200].decode("utf-8", "replace")
        raise HandlerError(f"Home Assistant at {settings.url}: HTTP {answer.status} from /api/template: {detail}")
    return _home_data(data)


def _home_data(data: dict[str, Any]) -> dict[str, Any]:
    floors = [{"id": f["id"], "name": f["name"]} for f in data.get("floors") or [] if f.get("name")]
    areas = [
        {"id": a["id"], "name": a["name"], **({"floor": a["floor"]} if a.get("floor") else {})}
        for a in data.get("areas") or []
        if a.get("name")
    ]
    entities = []
    for e in data.get("entities") or []:
        domain = str(e.get("id", "")).split(".", 1)[0]
        if not e.get("name") or domain not in DOMAINS:
            continue
        if domain == "sensor" and e.get("device_class") in _SKIPPED_CLASSES:
            continue
        entity: dict[str, Any] = {"name": e["name"], "id": e["id"]}
        if e.get("area"):
            entity["area"] = e["area"]
        if e.get("device_class"):
            entity["device_class"] = e["device_class"]
        entities.append(entity)
    home = {"floors": floors, "areas": areas, "entities": entities}
    Home.model_validate(home)  # the areas the entities name exist; what Home Assistant sent is usable
    return home


def home_yaml(home: dict[str, Any], source: str) -> str:
    """The home file's text, saying where it came from."""
    counts = f"{len(home['floors'])} floors, {len(home['areas'])} areas, {len(home['entities'])} entities"
    head = f"# Imported from Home Assistant at {source} by `edge-assistant import-home` ({counts}).\n"
    body = yaml.safe_dump({k: v for k, v in home.items() if v}, sort_keys=False, allow_unicode=True, width=120)
    return head + body


def import_home(settings: HomeAssistantSettings) -> str:
    """Fetch and write out Home Assistant's home (blocking)."""
    return home_yaml(asyncio.run(fetch_home(settings)), settings.url)
