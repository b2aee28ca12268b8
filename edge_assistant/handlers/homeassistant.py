"""The ``homeassistant`` handler: Home Assistant's REST API.

``mode = "service"``: one ``POST /api/services/<domain>/<service>`` per target entity (turn on a
light, unlock a lock, set a cover position ...), and ``GET /api/states/<id>`` for state
questions, so the reply says the live state. Intents without a service (timers) and
``mode = "intent"`` go to ``POST /api/intent/handle`` (HA needs ``intent:`` in its config).
The token comes from the ``token_env`` variable or ``token_file`` and is never logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from edge_assistant.errors import HandlerError
from edge_assistant.handlers._http import HttpClient, Response
from edge_assistant.handlers.base import Call, Command, Outcome, domain_of, entity_keys, intent_keys
from edge_assistant.handlers.settings import HomeAssistantSettings

__all__ = ["HomeAssistantHandler", "read_token", "service_for"]

_ON = {"cover": "open_cover", "valve": "open_valve", "lock": "lock", "alarm_control_panel": "alarm_arm_away"}
_OFF = {"cover": "close_cover", "valve": "close_valve", "lock": "unlock", "alarm_control_panel": "alarm_disarm"}
_MEDIA = {
    "HassMediaPause": "media_pause",
    "HassMediaUnpause": "media_play",
    "HassMediaNext": "media_next_track",
    "HassMediaPrevious": "media_previous_track",
}
_STATE_INTENTS = ("HassGetState", "HassClimateGetTemperature")


def _light_data(slots: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if "brightness" in slots:
        data["brightness_pct"] = slots["brightness"]
    if "brightness_step" in slots:
        data["brightness_step_pct"] = slots["brightness_step"]
    if "color" in slots:
        data["color_name"] = slots["color"]
    if "temperature" in slots:
        data["color_temp_kelvin"] = slots["temperature"]
    return data


def service_for(intent: str, entity_id: str, slots: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(domain, service, data) of the HA service that does ``intent`` on ``entity_id``; None if none."""
    domain = domain_of(entity_id)
    simple: dict[str, tuple[str, str, dict[str, Any]]] = {
        "HassTurnOn": (domain, _ON.get(domain, "turn_on"), {}),
        "HassTurnOff": (domain, _OFF.get(domain, "turn_off"), {}),
        "HassLightSet": ("light", "turn_on", _light_data(slots)),
        "HassClimateSetTemperature": ("climate", "set_temperature", {"temperature": slots.get("temperature")}),
        "HassSetPosition": (domain, "set_cover_position", {"position": slots.get("position")}),
        "HassFanSetSpeed": ("fan", "set_percentage", {"percentage": slots.get("percentage")}),
        "HassSetVolume": ("media_player", "volume_set", {"volume_level": (slots.get("volume_level") or 0) / 100}),
        "HassMediaPlayerMute": ("media_player", "volume_mute", {"is_volume_muted": True}),
        "HassMediaPlayerUnmute": ("media_player", "volume_mute", {"is_volume_muted": False}),
        "HassVacuumStart": ("vacuum", "start", {}),
        "HassVacuumReturnToBase": ("vacuum", "return_to_base", {}),
    }
    if intent in _MEDIA:
        return "media_player", _MEDIA[intent], {}
    if intent == "HassSetVolumeRelative":
        up = (slots.get("volume_step") or 0) >= 0
        return "media_player", "volume_up" if up else "volume_down", {}
    found = simple.get(intent)
    if found is None:
        return None
    service_domain, service, data = found
    return service_domain, service, {"entity_id": entity_id, **data}


def read_token(settings: HomeAssistantSettings) -> str:
    """The long-lived access token, from ``token_file`` or the ``token_env`` variable."""
    if settings.token_file:
        try:
            token = Path(settings.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise HandlerError(f"[handlers.homeassistant] token_file: cannot read it: {exc.strerror}") from exc
    else:
        token = os.environ.get(settings.token_env, "").strip()
    if not token:
        where = f"token_file {settings.token_file}" if settings.token_file else f"the variable {settings.token_env}"
        raise HandlerError(f"[handlers.homeassistant]: no access token in {where} (a long-lived token from HA)")
    return token


class HomeAssistantHandler:
    """Service calls per entity (or the intent API) against one Home Assistant instance."""

    def __init__(self, settings: HomeAssistantSettings, name: str = "homeassistant") -> None:
        self.name = name
        self.settings = settings
        self._base = settings.url.rstrip("/")
        headers = {"Authorization": f"Bearer {read_token(settings)}"}
        self._client = HttpClient(headers, settings.request_timeout_s, settings.retries, settings.ca_file)

    def __repr__(self) -> str:
        return f"HomeAssistantHandler(url={self._base!r})"

    def keys(self, command: Command) -> list[str | None]:
        """Per target entity in service mode; one call when there is no target or in intent mode."""
        if self.settings.mode == "intent" or not command.targets:
            return intent_keys(self.settings, command)
        return list(entity_keys(self.settings, command))

    async def handle(self, call: Call) -> Outcome:
        """Call the service (or read the state, or hand the intent to HA's intent API)."""
        cmd = call.command
        if call.entity is not None and cmd.intent in _STATE_INTENTS:
            return await self._state(call.entity)
        service = service_for(cmd.intent, call.entity, dict(cmd.slots)) if call.entity else None
        if service is None:
            body = {"name": cmd.intent, "data": dict(cmd.slots)}
            answer = await self._client.request("POST", f"{self._base}/api/intent/handle", body)
            return self._outcome(answer, "/api/intent/handle", _speech(answer))
        domain, name, data = service
        path = f"/api/services/{domain}/{name}"
        return self._outcome(await self._client.request("POST", self._base + path, data), path, None)

    async def _state(self, entity_id: str) -> Outcome:
        path = f"/api/states/{entity_id}"
        answer = await self._client.request("GET", self._base + path)
        body = answer.json() if isinstance(answer, Response) else None
        state = body.get("state") if isinstance(body, dict) else None
        if isinstance(state, str) and isinstance(body, dict):
            friendly = body.get("attributes", {}).get("friendly_name") or entity_id
            unit = body.get("attributes", {}).get("unit_of_measurement") or ""
            reply = f"The {str(friendly).lower()} is {state}{' ' + unit if unit else ''}"
            return self._outcome(answer, path, reply)
        return self._outcome(answer, path, None)

    def _outcome(self, answer: Response | str, path: str, reply: str | None) -> Outcome:
        if isinstance(answer, str):
            return Outcome(ok=False, error=f"Home Assistant {path}: {answer}")
        if answer.status == 401:
            return Outcome(ok=False, error="Home Assistant rejected the access token (HTTP 401)")
        if not 200 <= answer.status < 300:
            return Outcome(ok=False, error=f"Home Assistant {path} answered HTTP {answer.status}")
        return Outcome(reply=reply)

    async def aclose(self) -> None:
        """Nothing to release: each request has its own connection."""


def _speech(answer: Response | str) -> str | None:
    body = answer.json() if isinstance(answer, Response) else None
    try:
        text = body["speech"]["plain"]["speech"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return text if isinstance(text, str) and text else None
