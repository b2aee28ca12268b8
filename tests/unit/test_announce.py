"""Zeroconf: what the hub and the satellite announce, and when the hub does not."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import socket

import ifaddr
import pytest

from edge_assistant.config import Settings
from edge_assistant.hub.announce import MDNS_GROUP, announce, mdns_peers, slug_label
from edge_assistant.hub.command import announces
from edge_assistant.netguard import NetworkGuard

pytestmark = pytest.mark.unit
HOST = slug_label(socket.gethostname().split(".")[0])  # "my_host" -> "my-host"


def _names(*calls: tuple[str, str, str]) -> list[str]:
    """The service names ``announce`` gives, each as (name, what, role), on loopback."""

    async def go() -> list[str]:
        out = []
        for name, what, role in calls:
            announcement = announce("127.0.0.1", 10999, name, what=what, role=role)
            assert announcement is not None
            out.append(announcement.info.name)
            await announcement.close()
        return out

    return asyncio.run(go())


def test_a_satellite_beside_the_hub_never_takes_the_hub_s_name() -> None:
    """On one host the hub is edge-assistant-HOST and a satellite without a name
    edge-assistant-satellite-HOST (Home Assistant took one for the other); a name given is the
    label, made fit for mDNS."""
    hub, satellite, named = _names(("", "the hub", ""), ("", "the satellite", "satellite"), ("Kitchen Sat", "", ""))
    assert hub == f"edge-assistant-{HOST}._wyoming._tcp.local."
    assert satellite == f"edge-assistant-satellite-{HOST}._wyoming._tcp.local."
    assert (
        named == "Kitchen-Sat._wyoming._tcp.local." and slug_label("Küche #2") == "Kuche-2" and slug_label("客厅") == ""
    )


def test_the_hub_announces_off_loopback_only() -> None:
    """Bound to loopback nothing off the host reaches the hub, and Home Assistant's mDNS leaves
    `lo` out: the hub does not announce there (it announced, and its unicast answers were refused)."""
    args = argparse.Namespace(no_zeroconf=False)
    settings = Settings()
    assert not announces(settings, args, "127.0.0.1") and not announces(settings, args, "localhost")
    assert announces(settings, args, "192.168.1.5") and announces(settings, args, "0.0.0.0")
    assert not announces(settings, argparse.Namespace(no_zeroconf=True), "192.168.1.5")


def _lan_interface() -> ipaddress.IPv4Interface | None:
    """This machine's first non-loopback IPv4 address with its network, if it has one."""
    for adapter in ifaddr.get_adapters():
        for item in adapter.ips:
            if isinstance(item.ip, str) and not ipaddress.ip_address(item.ip).is_loopback:
                return ipaddress.IPv4Interface(f"{item.ip}/{item.network_prefix}")
    return None


def test_mdns_answers_reach_the_link_s_queriers_only() -> None:
    """With no allow_clients, a querier on the announced link (Home Assistant asks by unicast too)
    gets its answer through the offline guard, which refused it; nothing beyond the link does.
    With allow_clients, those only."""
    lan = _lan_interface()
    if lan is None:
        pytest.skip("no non-loopback IPv4 interface")
    peers = mdns_peers(str(lan.ip), [])
    assert peers == [MDNS_GROUP, str(lan.network)]
    guard = NetworkGuard(peers)
    neighbour = next(ip for ip in lan.network.hosts() if ip != lan.ip)
    assert guard.allows(str(neighbour)) and guard.allows(MDNS_GROUP)
    assert not guard.allows("8.8.8.8")
    assert mdns_peers(str(lan.ip), ["192.168.7.10"]) == [MDNS_GROUP, "192.168.7.10"]
