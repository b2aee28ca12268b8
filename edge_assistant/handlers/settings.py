"""Config sections of the handlers: ``[handlers.*]`` (``[policy]`` is in :mod:`edge_assistant.policy`).

Only pydantic here, so that :mod:`edge_assistant.config` can import it without any backend.
Every handler section shares :class:`Route` (which intents, domains and entities it acts on) and
a ``timeout_s``; a section that is absent means that handler is off. With no handler section at
all, the ``log`` handler runs, so a fresh install shows what it would do.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CommandSettings",
    "GpioPin",
    "GpioSettings",
    "HandlersSettings",
    "HomeAssistantSettings",
    "HttpSettings",
    "LogSettings",
    "MqttEntity",
    "MqttSettings",
    "PluginSettings",
    "Route",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Route(BaseModel):
    """What a handler acts on (intents, entity domains, entity ids); empty means "any". In every section."""

    model_config = _FROZEN
    intents: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    entity_ids: tuple[str, ...] = ()
    timeout_s: float = Field(default=5.0, gt=0, le=600)


class LogSettings(Route):
    """``[handlers.log]``: one JSON line per intent; ``path`` is a file, "stdout" or "stderr"."""

    path: str = "stderr"


class MqttEntity(BaseModel):
    """``[handlers.mqtt.entities."light.kitchen"]``: a command topic and payloads per intent.

    A payload is a string or a table; ``{slot}`` placeholders take slot values (``{entity}``,
    ``{intent}`` too). An intent without a payload gets ``{"intent", "entity", "slots"}`` as JSON.
    """

    model_config = _FROZEN
    topic: str = Field(min_length=1)
    payloads: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    retain: bool = False


class MqttSettings(Route):
    """``[handlers.mqtt]``: Hermes ``hermes/intent/<Name>`` messages plus per-entity topics."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = ""
    username: str = ""
    password_env: str = ""
    tls: bool = False
    ca_file: str = ""
    qos: Literal[0, 1, 2] = 1
    hermes: bool = True
    hermes_prefix: str = "hermes/intent"
    site_id: str = "default"
    entities: dict[str, MqttEntity] = Field(default_factory=dict)
    queue_size: int = Field(default=1000, ge=1)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0, le=600)


class HttpSettings(Route):
    """``[handlers.http]``: POST the intent as JSON to a webhook; TLS certificates are verified."""

    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    token_env: str = ""
    ca_file: str = ""
    retries: int = Field(default=2, ge=0, le=10)
    request_timeout_s: float = Field(default=3.0, gt=0)
    per_entity: bool = False
    timeout_s: float = Field(default=15.0, gt=0, le=600)


class HomeAssistantSettings(Route):
    """``[handlers.homeassistant]``: REST service calls per entity, or ``/api/intent/handle``."""

    url: str = Field(default="http://homeassistant.local:8123", pattern=r"^https?://")
    token_env: str = "HASS_TOKEN"  # noqa: S105 - the name of a variable, not a secret
    token_file: str = ""
    mode: Literal["service", "intent"] = "service"
    ca_file: str = ""
    retries: int = Field(default=2, ge=0, le=10)
    request_timeout_s: float = Field(default=3.0, gt=0)
    timeout_s: float = Field(default=15.0, gt=0, le=600)


class CommandSettings(Route):
    """``[handlers.command]``: run ``argv`` (never a shell); ``{slot}`` placeholders in it are filled.

    ``slots_as`` adds the slots as ``name=value`` arguments ("args"), ``EA_SLOT_<NAME>`` variables
    ("env", with ``EA_INTENT``, ``EA_ENTITY``, ``EA_TARGETS`` ...) and/or JSON on stdin ("stdin").
    """

    argv: tuple[str, ...] = Field(min_length=1)
    slots_as: tuple[Literal["args", "env", "stdin"], ...] = ("env",)
    per_entity: bool = False
    cwd: str = ""
    reply_from_stdout: bool = False
    timeout_s: float = Field(default=10.0, gt=0, le=600)

    @model_validator(mode="after")
    def _entity_needs_per_entity(self) -> CommandSettings:
        if not self.per_entity and any("{entity}" in arg for arg in self.argv):
            raise ValueError("argv uses {entity}, one target's id, which is filled only with per_entity = true")
        return self


class GpioPin(BaseModel):
    """One entity bound to a pin: a relay, an LED, or a PWM LED (brightness)."""

    model_config = _FROZEN
    pin: int | str
    kind: Literal["relay", "led", "pwm"] = "relay"
    active_high: bool = True


class GpioSettings(Route):
    """``[handlers.gpio]``: gpiozero outputs bound to entities; ``pin_factory`` "" = gpiozero's choice."""

    pin_factory: Literal["", "mock", "lgpio", "rpigpio", "pigpio", "native"] = ""
    entities: dict[str, GpioPin] = Field(default_factory=dict)


class PluginSettings(Route):
    """``[handlers.plugins.NAME]``: a third-party handler from the ``edge_assistant.handlers`` group."""

    entry_point: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class HandlersSettings(BaseModel):
    """``[handlers]``: one optional section per handler kind plus third-party plugins."""

    model_config = _FROZEN
    log: LogSettings | None = None
    mqtt: MqttSettings | None = None
    http: HttpSettings | None = None
    homeassistant: HomeAssistantSettings | None = None
    command: CommandSettings | None = None
    gpio: GpioSettings | None = None
    plugins: dict[str, PluginSettings] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when no handler is configured (the log handler then runs)."""
        kinds = (self.log, self.mqtt, self.http, self.homeassistant, self.command, self.gpio)
        return all(k is None for k in kinds) and not self.plugins
