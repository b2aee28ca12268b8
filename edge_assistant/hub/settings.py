"""``[wyoming]``: where the hub listens and what one client may do (pure pydantic, no backend)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from edge_assistant.errors import ConfigError

__all__ = ["DEFAULT_URI", "WyomingSettings", "is_loopback", "parse_uri"]

DEFAULT_URI = "tcp://127.0.0.1:10800"


class WyomingSettings(BaseModel):
    """``[wyoming]``: the hub's address, discovery, and the limits that keep a LAN client in bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    uri: str = Field(default=DEFAULT_URI, description="tcp://HOST:PORT; loopback unless you mean the LAN")
    zeroconf: bool = Field(default=True, description="announce _wyoming._tcp over mDNS (LAN multicast only)")
    zeroconf_name: str = Field(default="", description="the service name (empty: edge-assistant-<host>)")
    # Peers allowed to connect (IP addresses or networks such as 192.168.1.0/24); empty: any peer
    # that can reach the bound address. Also what `edge-assistant wyoming --systemd-allow` opens.
    allow_clients: list[str] = Field(default_factory=list)
    max_clients: int = Field(default=16, ge=1, le=1024)
    max_payload_bytes: int = Field(default=512 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_events_per_s: float = Field(default=200.0, gt=0.0, le=100000.0)
    idle_timeout_s: float = Field(default=60.0, gt=0.0, le=86400.0)
    max_utterance_s: float = Field(default=30.0, gt=0.0, le=600.0, description="audio taken per transcribe")
    # Speech engines loaded side by side, so that this many clients are decoded while they speak;
    # more wait for one to come free.
    asr_sessions: int = Field(default=4, ge=1, le=64)


def parse_uri(uri: str, field: str = "wyoming.uri") -> tuple[str, int]:
    """``tcp://HOST:PORT`` -> (host, port); ConfigError naming the URI otherwise."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ConfigError(f"'{uri}' is not tcp://HOST:PORT (e.g. tcp://127.0.0.1:10800)", field=field)
    return parts.hostname, port


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or "localhost") is this machine only."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"
