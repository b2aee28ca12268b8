"""Reading Wyoming events from a client that may be broken or hostile, within limits.

``wyoming.event.async_read_event`` trusts the peer: it waits forever for a header line or for
the bytes a header promises, accepts any ``payload_length`` and turns a malformed line into
"end of stream". A hub on a LAN needs the opposite, so :func:`read_event` reads the same wire
format (a JSON header line, then ``data_length`` bytes of JSON data, then ``payload_length``
bytes of payload) and raises :class:`ProtocolError` for anything it will not take:

- a header longer than ``max_header_bytes``, data over ``max_data_bytes``, a payload over
  ``max_payload_bytes`` (checked before a byte of it is read);
- a line that is not a JSON object with a string ``type``, data that is not a JSON object,
  a length that is not a non-negative integer;
- a connection that closes inside an event (a truncated header or a length that promised more);
- an event that does not arrive whole within ``event_timeout_s`` of its header (a length lie
  that leaves the reader waiting, or a client that sends a byte a minute).

A quiet connection raises :class:`IdleTimeout` after ``idle_timeout_s``. :class:`RateLimit`
is a token bucket for the events per second.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Any

from wyoming.audio import AudioChunk
from wyoming.event import Event

__all__ = ["IdleTimeout", "Limits", "ProtocolError", "RateLimit", "client_allowed", "event_cost", "read_event"]


@dataclass(frozen=True)
class Limits:
    """What one connection may send (see the module docstring)."""

    max_header_bytes: int = 16 * 1024
    max_data_bytes: int = 64 * 1024
    max_payload_bytes: int = 512 * 1024
    idle_timeout_s: float = 60.0
    event_timeout_s: float = 10.0
    max_events_per_s: float = 200.0


class ProtocolError(Exception):
    """The client broke the protocol or a limit; ``code`` is sent in the error event, then it is closed."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class IdleTimeout(Exception):
    """No event started within the idle timeout."""


class RateLimit:
    """A token bucket: ``rate`` events per second on average, bursts of up to two seconds' worth."""

    def __init__(self, rate: float, clock: Any = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, 2.0 * rate)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()

    def allow(self, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens (one event: 1); False when the bucket holds fewer."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event, or None at a clean end of stream (between events)."""
    line = await _header_line(reader, limits)
    if line is None:
        return None
    header = _parse_header(line, limits)
    deadline = time.monotonic() + limits.event_timeout_s
    data: dict[str, Any] = dict(header.get("data") or {})
    data_length = header.get("data_length") or 0
    if data_length:
        more = _json_object(await _exactly(reader, data_length, deadline, "data"), "data")
        data.update(more)
    payload_length = header.get("payload_length") or 0
    payload = await _exactly(reader, payload_length, deadline, "payload") if payload_length else None
    return Event(type=header["type"], data=data, payload=payload)


async def _header_line(reader: asyncio.StreamReader, limits: Limits) -> bytes | None:
    try:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), limits.idle_timeout_s)
    except asyncio.TimeoutError:
        raise IdleTimeout from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise ProtocolError("truncated-event", "the connection closed inside an event header") from None
    except asyncio.LimitOverrunError:
        raise ProtocolError("event-too-large", f"event header over {limits.max_header_bytes} bytes") from None
    if len(line) > limits.max_header_bytes:
        raise ProtocolError("event-too-large", f"event header over {limits.max_header_bytes} bytes")
    return line


def _parse_header(line: bytes, limits: Limits) -> dict[str, Any]:
    header = _json_object(line, "header")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("malformed-event", "the event header has no string 'type'")
    if header.get("data") is not None and not isinstance(header["data"], dict):
        raise ProtocolError("malformed-event", "'data' in the event header is not an object")
    for key, limit in (("data_length", limits.max_data_bytes), ("payload_length", limits.max_payload_bytes)):
        value = header.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ProtocolError("malformed-event", f"'{key}' is not a non-negative integer: {value!r}")
        if value > limit:
            raise ProtocolError("event-too-large", f"'{key}' {value} is over the limit of {limit} bytes")
    return header


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("malformed-event", f"the event {what} is not JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError("malformed-event", f"the event {what} is not a JSON object")
    return value


async def _exactly(reader: asyncio.StreamReader, count: int, deadline: float, what: str) -> bytes:
    try:
        return await asyncio.wait_for(reader.readexactly(count), max(0.0, deadline - time.monotonic()))
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(
            "truncated-event", f"the connection closed after {len(exc.partial)} of the {count} {what} bytes promised"
        ) from None
    except asyncio.TimeoutError:
        raise ProtocolError("slow-event", f"the {count} {what} bytes promised did not arrive in time") from None


def client_allowed(host: str | None, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether a peer at ``host`` may connect: loopback always, else an address in ``allowed``."""
    if host is None:
        return False
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return ip.is_loopback or any(ip in network for network in allowed)


# The least an audio chunk costs against the event rate: a tenth of an event (10 ms chunks).
_CHUNK_COST = 0.1


def event_cost(event: Event) -> float:
    """What ``event`` takes of a client's event rate: 1, but an ``audio-chunk`` costs the seconds of
    audio it carries (at least ``_CHUNK_COST``). Home Assistant forwards audio in 10 ms chunks, 100
    events per second of speech, and sends what it has buffered as fast as it can: 5 s of audio
    at once closed its connection when every chunk cost an event. The audio of an utterance is
    bounded by ``max_utterance_s`` anyway, and a reply's or an announcement's by its length (Home
    Assistant sends those to a satellite as fast as it has them too); a flood of tiny chunks still
    meets the limit."""
    if not AudioChunk.is_type(event.type) or not event.payload:
        return 1.0
    data = event.data
    try:
        per_s = int(data["rate"]) * int(data["width"]) * int(data["channels"])
    except (KeyError, TypeError, ValueError):
        return 1.0
    return max(_CHUNK_COST, len(event.payload) / per_s) if per_s > 0 else 1.0
