"""The offline guarantee, enforced in-process: no connection except loopback and allowed hosts.

An audit hook (PEP 578) sees every ``socket.connect``, ``socket.sendto`` and
``socket.getaddrinfo`` made by Python code in the process, libraries included. Anything aimed
at a host that is neither loopback nor one of the configured handler hosts is refused with
``PermissionError`` before a packet leaves, and recorded. Unix sockets (systemd notify, the
status socket) are always allowed. The systemd unit adds the kernel-level wall
(``IPAddressDeny=any``); this guard names the code that tried.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["NetworkGuard", "install_guard"]

_log = logging.getLogger(__name__)
_RESOLVE_EVERY_S = 60.0


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Decides whether an address may be reached, and records refused attempts."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.allowed_names: set[str] = set()
        self._allowed_ips: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []  # "192.168.1.0/24"
        self._resolved_at = 0.0
        self.refused: list[str] = []
        self.enforcing = False
        self.set_allowed(allowed_hosts)

    def set_allowed(self, hosts: Iterable[str]) -> None:
        """Replace the allowed hosts (names or IPs), e.g. after a config reload."""
        with self._lock:
            self.allowed_names = {h.lower().strip("[]") for h in hosts if h}
            self._allowed_ips = {h for h in self.allowed_names if _is_ip(h)}
            self._networks = [ipaddress.ip_network(h, strict=False) for h in self.allowed_names if _is_network(h)]
            self._resolved_at = 0.0

    def allows(self, host: str) -> bool:
        """True for loopback, an allowed name, an address in an allowed range, or an address an
        allowed name resolves to."""
        host = host.lower().strip("[]")
        if _is_loopback(host) or host in self.allowed_names or host in self._allowed_ips:
            return True
        if self._networks and _is_ip(host):
            ip = ipaddress.ip_address(host.split("%")[0])
            if any(ip in network for network in self._networks):
                return True
        if _is_ip(host) and time.monotonic() - self._resolved_at > _RESOLVE_EVERY_S:
            self._resolve_allowed()
            return host in self._allowed_ips
        return False

    def _resolve_allowed(self) -> None:
        """Learn the current addresses of the allowed host names (DHCP may move them)."""
        ips = {h for h in self.allowed_names if _is_ip(h)}
        names = {h for h in self.allowed_names - ips if not _is_network(h)}
        was, self.enforcing = self.enforcing, False  # our own lookups must not be refused
        try:
            for name in names:
                try:
                    ips.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
                except OSError:
                    continue
        finally:
            self.enforcing = was
        with self._lock:
            self._allowed_ips = ips
            self._resolved_at = time.monotonic()

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """The audit hook: refuse a connection, datagram or lookup aimed at a host not allowed."""
        if not self.enforcing or event not in ("socket.connect", "socket.sendto", "socket.getaddrinfo"):
            return
        if event == "socket.getaddrinfo":
            host = args[0]
        else:
            address = args[1]
            if not isinstance(address, tuple):  # AF_UNIX path or abstract name
                return
            host = address[0]
        if host is None:
            return
        host = host.decode() if isinstance(host, bytes) else str(host)
        if not self.allows(host):
            self.refused.append(f"{event} {host}")
            _log.error("offline guard refused %s to %s (not loopback, not a configured handler host)", event, host)
            raise PermissionError(f"edge-assistant offline guard: {host} is not an allowed host")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _is_network(host: str) -> bool:
    """Whether ``host`` is an address range ("192.168.1.0/24"), as allow lists may give."""
    if "/" not in host:
        return False
    try:
        ipaddress.ip_network(host, strict=False)
    except ValueError:
        return False
    return True


_GUARD: NetworkGuard | None = None


def install_guard(allowed_hosts: Iterable[str] = ()) -> NetworkGuard:
    """Install the process-wide guard once (audit hooks cannot be removed) and turn it on."""
    global _GUARD
    if _GUARD is None:
        _GUARD = NetworkGuard(allowed_hosts)
        sys.addaudithook(_GUARD.audit)
    else:
        _GUARD.set_allowed(allowed_hosts)
    _GUARD.enforcing = True
    return _GUARD
