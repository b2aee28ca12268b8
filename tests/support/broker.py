"""A real mosquitto broker on a free loopback port, for the mqtt tests and the dispatch benchmark.

Uses the Debian package's ``/usr/sbin/mosquitto`` (or ``mosquitto`` on PATH). ``stop`` and
``start`` keep the port, so a restart looks to clients like a broker going away and coming back;
with ``persistent=True`` queued messages of persistent sessions survive the restart.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["Collector", "Mosquitto", "free_port", "mosquitto_binary"]


def mosquitto_binary() -> str | None:
    """The mosquitto executable, or None when the package is not installed."""
    for candidate in ("/usr/sbin/mosquitto", shutil.which("mosquitto")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """One mosquitto process; a context manager that starts and stops it."""

    def __init__(
        self,
        port: int | None = None,
        persistent: bool = False,
        workdir: str | Path | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
        self.binary = binary
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="ea-mosquitto-") if workdir is None else None
        self.workdir = Path(workdir or self._tmp.name)  # type: ignore[union-attr]
        self.config = self.workdir / "mosquitto.conf"
        # As root mosquitto would switch to the "mosquitto" user, who cannot write our temp dir.
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "max_queued_messages 100000",
            f"user {user}",
        ]
        if persistent:
            lines += ["persistence true", f"persistence_location {self.workdir}/", "autosave_interval 1"]
        if users:
            lines = [line for line in lines if line != "allow_anonymous true"] + self._passwords(users)
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def _passwords(self, users: dict[str, str]) -> list[str]:
        """A password file for ``users`` (made with mosquitto_passwd); anonymous clients refused."""
        path = self.workdir / "passwords"
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        for number, (user, password) in enumerate(users.items()):
            flags = ["-b", "-c"] if number == 0 else ["-b"]
            subprocess.run([tool, *flags, str(path), user, password], check=True, capture_output=True)
        return ["allow_anonymous false", f"password_file {path}"]

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - handed to the process
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode}: see {self.workdir}/mosquitto.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, so it saves persistent sessions) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


class Collector:
    """A subscriber that records every message under ``topic`` (QoS 1, a persistent session).

    The session survives a broker restart (the broker keeps its messages while the collector
    reconnects), so what it has seen is what the broker accepted.
    """

    def __init__(self, port: int, topic: str = "#") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes]] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        client_id = f"ea-collector-{uuid.uuid4().hex[:8]}"
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,  # type: ignore[attr-defined]
            client_id=client_id,
            clean_session=False,
        )
        self._client.reconnect_delay_set(1, 2)
        self._topic = topic
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the collector could not subscribe")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._cond:
            self.messages.append((message.topic, bytes(message.payload)))
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, bytes]]:
        """Wait until ``count`` messages arrived (or the timeout); return a copy of all of them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
