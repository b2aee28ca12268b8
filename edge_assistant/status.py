"""Health of the running daemon: counters, per-stage p50/p95, the last utterances and errors.

``Stats`` is fed one ``UtteranceRecord`` per utterance and keeps bounded windows only, so a
daemon that runs for months does not grow. ``StatusServer`` answers ``edge-assistant status``
over a local Unix socket; ``MetricsServer`` serves the same numbers as Prometheus text on
127.0.0.1 when a port is configured.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections import deque
from pathlib import Path
from typing import Any

from edge_assistant.events import UtteranceRecord

__all__ = ["MetricsServer", "Stats", "StatusServer", "default_socket_path", "query_status"]

_WINDOW = 1000  # per-stage timings kept for the percentiles


def default_socket_path() -> Path:
    """Where the status socket lives: systemd's RuntimeDirectory, else the user's runtime dir."""
    for var in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        base = os.environ.get(var, "").split(":")[0]
        if base:
            return Path(base) / "edge-assistant.sock"
    return Path("/tmp") / f"edge-assistant-{os.getuid()}.sock"  # noqa: S108 - per-user name, 0600 socket


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


class Stats:
    """Bounded running statistics of the daemon."""

    def __init__(self, model: str = "", keep: int = 20) -> None:
        self.started = time.monotonic()
        self.model = model
        self.utterances = 0
        self.intents = 0
        self.actions_failed = 0
        self.errors = 0
        self.reloads = 0
        self._last: deque[dict[str, Any]] = deque(maxlen=keep)
        self._recent_errors: deque[dict[str, Any]] = deque(maxlen=keep)
        self._timings: dict[str, deque[float]] = {}

    def add(self, record: UtteranceRecord) -> None:
        """Count one finished utterance."""
        self.utterances += 1
        intent = record.parse.intent
        self.intents += intent is not None
        self.actions_failed += sum(not a.ok for a in record.actions)
        for stage, ms in record.timings_ms.items():
            self._timings.setdefault(stage, deque(maxlen=_WINDOW)).append(float(ms))
        self._last.append(
            {
                "id": record.id,
                "transcript": record.transcript if record.transcript is not None else record.parse.text,
                "intent": intent,
                "reason": record.parse.reason,
                "actions_ok": all(a.ok for a in record.actions),
            }
        )
        if record.error:
            self.add_error("utterance", record.error, record.id)

    def add_error(self, stage: str, message: str, utterance_id: str | None = None) -> None:
        """Count an error of a stage (kept with its time for ``status``)."""
        self.errors += 1
        self._recent_errors.append({"stage": stage, "error": message, "id": utterance_id, "at": time.time()})

    def snapshot(self) -> dict[str, Any]:
        """Everything ``edge-assistant status`` prints."""
        stages = {
            stage: {"p50_ms": _percentile(list(v), 0.5), "p95_ms": _percentile(list(v), 0.95), "n": len(v)}
            for stage, v in self._timings.items()
            if v
        }
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "model": self.model,
            "utterances": self.utterances,
            "intents": self.intents,
            "actions_failed": self.actions_failed,
            "errors": self.errors,
            "reloads": self.reloads,
            "stages": stages,
            "last_utterances": list(self._last),
            "recent_errors": list(self._recent_errors),
        }

    def prometheus(self) -> str:
        """The counters and stage percentiles in Prometheus text exposition format."""
        snap = self.snapshot()
        lines = [
            "# TYPE edge_assistant_uptime_seconds gauge",
            f"edge_assistant_uptime_seconds {snap['uptime_s']}",
        ]
        for key in ("utterances", "intents", "actions_failed", "errors", "reloads"):
            lines += [f"# TYPE edge_assistant_{key}_total counter", f"edge_assistant_{key}_total {snap[key]}"]
        lines.append("# TYPE edge_assistant_stage_latency_ms gauge")
        for stage, row in snap["stages"].items():
            for q, key in (("0.5", "p50_ms"), ("0.95", "p95_ms")):
                lines.append(f'edge_assistant_stage_latency_ms{{stage="{stage}",quantile="{q}"}} {row[key]}')
        return "\n".join(lines) + "\n"


class _Server:
    """A listening asyncio server that can be closed once."""

    _server: asyncio.AbstractServer | None = None

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class StatusServer(_Server):
    """Answers one JSON snapshot per connection on a Unix socket only the service user can open."""

    def __init__(self, stats: Stats, path: Path) -> None:
        self.stats = stats
        self.path = path

    async def start(self) -> None:
        """Listen (a stale socket file from a crashed run is replaced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_socket():
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        finally:
            os.umask(old)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(json.dumps(self.stats.snapshot()).encode() + b"\n")
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        """Stop listening and remove the socket file."""
        await super().close()
        self.path.unlink(missing_ok=True)


class MetricsServer(_Server):
    """A minimal HTTP/1.0 endpoint on 127.0.0.1 serving ``/metrics`` in Prometheus text format."""

    def __init__(self, stats: Stats, port: int, host: str = "127.0.0.1") -> None:
        self.stats = stats
        self.port = port
        self.host = host

    async def start(self) -> None:
        """Listen on loopback only."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            ok = request.split(b" ")[1:2] == [b"/metrics"]
            body = self.stats.prometheus().encode() if ok else b"not found\n"
            status = b"200 OK" if ok else b"404 Not Found"
            writer.write(
                b"HTTP/1.0 " + status + b"\r\nContent-Type: text/plain; version=0.0.4\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


def query_status(path: Path, timeout: float = 3.0) -> dict[str, Any]:
    """Ask a running daemon for its snapshot; OSError when none listens at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    result: dict[str, Any] = json.loads(b"".join(chunks))
    return result
