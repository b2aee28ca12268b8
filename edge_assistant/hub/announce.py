"""Zeroconf: announce the hub as ``_wyoming._tcp`` so Home Assistant discovers it.

mDNS is link-local multicast (224.0.0.251 port 5353): it never leaves the LAN. The hub announces
on the interface of the address it is bound to only (loopback for 127.0.0.1), and a failure to
announce (no network, no multicast, zeroconf not installed) is logged and never stops the hub.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import unicodedata
from collections.abc import Sequence
from typing import Any

__all__ = ["MDNS_GROUP", "Announcement", "announce", "mdns_peers"]

log = logging.getLogger(__name__)
MDNS_GROUP = "224.0.0.251"
SERVICE_TYPE = "_wyoming._tcp.local."


class Announcement:
    """A registered service; ``close`` sends the goodbye and releases the sockets."""

    def __init__(self, zeroconf: Any, info: Any, what: str = "the hub") -> None:
        self._zeroconf = zeroconf
        self.info = info
        self.what = what
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Register in the background (probing and announcing take about two seconds)."""
        self._task = asyncio.create_task(self._register(), name="zeroconf")

    async def _register(self) -> None:
        try:
            await (await self._zeroconf.async_register_service(self.info, allow_name_change=True))
            log.info("zeroconf: announced %s on %s", self.info.name, self.info.parsed_addresses())
        except Exception as exc:  # offline or no multicast: the hub serves on without discovery
            log.warning("zeroconf: could not announce %s (%s); add it by host and port instead", self.what, exc)

    async def close(self) -> None:
        """Withdraw the service."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._zeroconf.async_close()
        except Exception as exc:
            log.debug("zeroconf: close failed: %s", exc)


def announce(host: str, port: int, name: str = "", what: str = "the hub", role: str = "") -> Announcement | None:
    """Start announcing ``what`` (the hub, a satellite) bound to ``host``:``port``; None when it cannot be.

    The service is called ``name``, else ``edge-assistant[-ROLE]-HOST``: a satellite beside the hub
    on one host must not claim the hub's name (Home Assistant would take one for the other)."""
    try:
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf
    except ImportError:
        log.warning("zeroconf: not installed, %s is not announced (pip install zeroconf)", what)
        return None
    address = _announced_address(host)
    if address is None:
        log.warning("zeroconf: no address to announce for %s; add %s by host and port", host, what)
        return None
    ip = ipaddress.ip_address(address)
    label = slug_label(name) or slug_label(
        " ".join(filter(None, ("edge-assistant", role, socket.gethostname().split(".")[0])))
    )
    try:
        zeroconf = AsyncZeroconf(
            interfaces=[address], ip_version=IPVersion.V4Only if ip.version == 4 else IPVersion.V6Only
        )
        info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{label}.{SERVICE_TYPE}",
            port=port,
            addresses=[ip.packed],
            properties={"program": "edge-assistant"},
            server=f"{label}.local.",
        )
    except Exception as exc:
        log.warning("zeroconf: cannot start (%s); %s serves on without discovery", exc, what)
        return None
    announcement = Announcement(zeroconf, info, what)
    announcement.start()
    return announcement


def mdns_peers(host: str, allow_clients: Sequence[str]) -> list[str]:
    """Whom the offline guard lets mDNS answer for a service bound to ``host``: the group, and the
    queriers a unicast answer goes to (Home Assistant asks by unicast too). Those are the allowed
    clients; with none configured, the network of the link the service is announced on
    ("192.168.1.0/24"): an mDNS querier is on that link, never beyond it."""
    if allow_clients:
        return [MDNS_GROUP, *allow_clients]
    network = _link_network(host)
    return [MDNS_GROUP, *([network] if network else [])]


def _link_network(host: str) -> str | None:
    """The network of the interface that holds the announced address of ``host``; None if unknown."""
    address = _announced_address(host)
    try:
        import ifaddr  # zeroconf's own dependency
    except ImportError:
        return None
    if address is None:
        return None
    wanted = ipaddress.ip_address(address)
    for adapter in ifaddr.get_adapters():
        for item in adapter.ips:
            ip = item.ip[0] if isinstance(item.ip, tuple) else item.ip  # IPv6: (address, flow, scope)
            try:
                if ipaddress.ip_address(ip) == wanted:
                    return str(ipaddress.ip_network(f"{ip}/{item.network_prefix}", strict=False))
            except ValueError:
                continue
    return None


def slug_label(name: str) -> str:
    """``name`` as an mDNS host label: ASCII letters, digits and hyphens ("Kitchen Satellite" ->
    "Kitchen-Satellite", "Küche" -> "Kuche"); "" when nothing of it is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[A-Za-z0-9]+", ascii_name))[:63]


def _announced_address(host: str) -> str | None:
    """The address clients reach: the bound one, or for a wildcard bind the LAN address of the default route."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            return str(socket.gethostbyname(host))
        except OSError:
            return None
    if not ip.is_unspecified:
        return str(ip)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((MDNS_GROUP, 5353))  # a UDP connect sends nothing; it picks the interface
        return str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
