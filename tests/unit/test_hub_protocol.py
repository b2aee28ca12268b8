"""The hub's bounded Wyoming event reader: what it takes, what it refuses and why, and the rate limit."""

from __future__ import annotations

import asyncio
import json

import pytest

from edge_assistant.hub.protocol import IdleTimeout, Limits, ProtocolError, RateLimit, read_event

pytestmark = pytest.mark.unit
FAST = Limits(max_header_bytes=256, max_data_bytes=128, max_payload_bytes=1024, idle_timeout_s=0.2, event_timeout_s=0.2)


def _read(wire: bytes, *, eof: bool = True, limits: Limits = FAST) -> object:
    async def go() -> object:
        reader = asyncio.StreamReader()
        reader.feed_data(wire)
        if eof:
            reader.feed_eof()
        return await read_event(reader, limits)

    return asyncio.run(go())


def _refusal(wire: bytes, *, eof: bool = True) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        _read(wire, eof=eof)
    return caught.value


def test_an_event_with_data_and_payload_is_read_whole() -> None:
    """Header data and the data block are merged; the payload is the bytes promised."""
    data = json.dumps({"width": 2, "channels": 1}).encode()
    header = {"type": "audio-chunk", "data": {"rate": 16000}, "data_length": len(data), "payload_length": 4}
    event = _read(json.dumps(header).encode() + b"\n" + data + b"\x01\x02\x03\x04")
    assert event.type == "audio-chunk"  # type: ignore[attr-defined]
    assert event.data == {"rate": 16000, "width": 2, "channels": 1}  # type: ignore[attr-defined]
    assert event.payload == b"\x01\x02\x03\x04"  # type: ignore[attr-defined]


def test_end_of_stream_between_events_is_none() -> None:
    """A client that leaves between events is no error."""
    assert _read(b"") is None


@pytest.mark.parametrize(
    ("wire", "code", "words"),
    [
        (b"not json\n", "malformed-event", "not JSON"),
        (b"[1, 2]\n", "malformed-event", "not a JSON object"),
        (b'{"data": {}}\n', "malformed-event", "no string 'type'"),
        (b'{"type": "x", "data": [1]}\n', "malformed-event", "'data'"),
        (b'{"type": "x", "payload_length": -1}\n', "malformed-event", "non-negative"),
        (b'{"type": "x", "payload_length": "12"}\n', "malformed-event", "non-negative"),
        (b'{"type": "x", "payload_length": true}\n', "malformed-event", "non-negative"),
        (b'{"type": "x", "data_length": 3}\n{"', "truncated-event", "2 of the 3 data bytes"),
        (b'{"type": "x", "data_length": 3}\n[1]', "malformed-event", "data is not a JSON object"),
        (b'{"type": "audio-chunk", "payl', "truncated-event", "inside an event header"),
        (b'{"type": "x", "payload_length": 10}\nabc', "truncated-event", "after 3 of the 10 payload bytes"),
        (b"\xff\xfe\n", "malformed-event", "not JSON"),
    ],
)
def test_broken_events_are_refused_with_a_code_and_a_reason(wire: bytes, code: str, words: str) -> None:
    """Each kind of breakage has its code, and the text says what was wrong."""
    error = _refusal(wire)
    assert error.code == code and words in error.text


def test_an_oversized_payload_is_refused_before_it_is_read() -> None:
    """The length is checked in the header: the reader never waits for (or buffers) the payload."""
    error = _refusal(b'{"type": "audio-chunk", "payload_length": 1025}\n', eof=False)
    assert error.code == "event-too-large" and "1025" in error.text


def test_an_oversized_header_is_refused() -> None:
    """A header line longer than the limit, whether or not it ends."""
    assert _refusal(b'{"type": "' + b"x" * 300 + b'"}\n').code == "event-too-large"


def test_a_length_lie_that_stalls_times_out() -> None:
    """More bytes promised than sent, connection left open: refused after the event timeout."""
    error = _refusal(b'{"type": "x", "payload_length": 100}\nabc', eof=False)
    assert error.code == "slow-event"


def test_a_quiet_connection_is_idle() -> None:
    """No header starts within the idle timeout."""
    with pytest.raises(IdleTimeout):
        _read(b"", eof=False)


def test_rate_limit_allows_two_seconds_of_burst_then_refills() -> None:
    """At 10 events/s: 20 at once, the 21st refused; a second later 10 more."""
    now = [0.0]
    limit = RateLimit(10.0, clock=lambda: now[0])
    assert sum(limit.allow() for _ in range(25)) == 20
    now[0] = 1.0
    assert sum(limit.allow() for _ in range(25)) == 10


def test_an_audio_chunk_costs_the_seconds_it_carries_and_a_tenth_at_least() -> None:
    """9 s of Home Assistant's 10 ms chunks at once fit a 200 events/s budget; a flood does not."""
    from wyoming.asr import Transcript
    from wyoming.audio import AudioChunk

    from edge_assistant.hub.protocol import event_cost

    ten_ms = AudioChunk(16000, 2, 1, b"\0" * 320).event()
    assert event_cost(ten_ms) == pytest.approx(0.1)
    assert event_cost(AudioChunk(48000, 4, 2, b"\0" * 384000).event()) == pytest.approx(1.0)  # 1 s of stereo
    assert event_cost(AudioChunk(16000, 2, 1, b"").event()) == 1.0  # no audio: an event like any other
    assert event_cost(Transcript(text="turn on the light").event()) == 1.0
    now = [0.0]
    limit = RateLimit(200.0, clock=lambda: now[0])
    assert all(limit.allow(event_cost(ten_ms)) for _ in range(900))
    assert sum(limit.allow(event_cost(ten_ms)) for _ in range(10000)) < 4000


def test_allowed_clients_are_loopback_and_the_listed_networks() -> None:
    """[wyoming] allow_clients: an address or a network; IPv4 peers of a dual-stack socket count too."""
    import ipaddress

    from edge_assistant.hub.server import client_allowed

    allowed = [ipaddress.ip_network("192.168.1.0/24"), ipaddress.ip_network("10.0.0.7")]
    assert [client_allowed(h, allowed) for h in ("127.0.0.1", "::1", "192.168.1.20", "10.0.0.7")] == [True] * 4
    assert client_allowed("::ffff:192.168.1.20", allowed)
    assert not any(client_allowed(h, allowed) for h in ("192.168.2.1", "10.0.0.8", "fe80::1", "nonsense", None))
