"""The systemd notify protocol (sd_notify(3)) without libsystemd: READY, WATCHDOG, STATUS, STOPPING.

systemd passes ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace) to a
``Type=notify`` service and ``WATCHDOG_USEC`` when ``WatchdogSec=`` is set. Outside systemd
both are absent and every call here is a no-op, so the daemon runs the same under a shell.
"""

from __future__ import annotations

import logging
import os
import socket

__all__ = ["Notifier"]

_log = logging.getLogger(__name__)


class Notifier:
    """Sends state lines to the service manager; silent when there is none."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        owned = not pid or pid == str(os.getpid())
        self.watchdog_interval: float | None = int(usec) / 1e6 / 2 if usec.isdigit() and owned else None

    @property
    def enabled(self) -> bool:
        """Whether a service manager is listening."""
        return bool(self._address)

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False (and a debug log) when it could not be sent."""
        if not self._address:
            return False
        if self._socket is None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            self._socket.sendto("\n".join(fields).encode("utf-8"), self._address)
        except OSError as exc:
            _log.debug("sd_notify %s failed: %s", fields, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """The service is up: models loaded, listening."""
        return self.notify("READY=1", f"STATUS={status}") if status else self.notify("READY=1")

    def status(self, text: str) -> bool:
        """A one-line human status shown by ``systemctl status``."""
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        """Keep-alive ping; systemd restarts the service when these stop."""
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        """A reload (SIGHUP) began; ``ready()`` ends it."""
        return self.notify("RELOADING=1")

    def stopping(self) -> bool:
        """Shutdown began."""
        return self.notify("STOPPING=1")

    def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
