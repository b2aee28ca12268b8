"""``[satellite]``: which hub a satellite talks to and how it speaks replies (pure pydantic)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["SatelliteSettings"]


class SatelliteSettings(BaseModel):
    """``[satellite]``: the hub (or the address Home Assistant connects to), the name, where replies are spoken."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hub: str = Field(default="tcp://127.0.0.1:10800", description="the Wyoming asr + handle server")
    name: str = Field(default="", description="sent to the hub as satellite_id (empty: the host name)")
    # The room this satellite stands in (an area of the hub's home, by id, name or alias): sent with
    # each utterance, so "lights off" or a name several rooms share means this room's. Empty: none.
    area: str = Field(default="", description="this satellite's room in the hub's home (empty: none)")
    # auto: the hub's tts when it has one, else the local [tts] engine; hub / local: only that; none: silent.
    speak: Literal["auto", "hub", "local", "none"] = "auto"
    timeout_s: float = Field(default=15.0, gt=0.0, le=300.0, description="wait for each answer of the hub")
    # Home Assistant instead of a hub: listen on tcp://HOST:PORT (Wyoming satellites use port 10700)
    # for Home Assistant's Wyoming integration, which connects here and runs its own Assist pipeline
    # (speech to text, intent, reply) on each utterance. Empty: talk to `hub`.
    serve: str = Field(default="", description="tcp://HOST:PORT that Home Assistant connects to; empty: use hub")
    # Peers allowed to connect in `serve` mode (IP addresses or networks); empty: any that can reach it.
    allow_clients: list[str] = Field(default_factory=list)
    zeroconf: bool = Field(default=True, description="in serve mode, announce _wyoming._tcp so HA discovers it")

    @field_validator("allow_clients")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an IP address or network (e.g. 192.168.1.0/24)") from None
        return value
