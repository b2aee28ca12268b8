"""The hub: one ``Assistant`` and a pool of speech engines behind a Wyoming TCP server.

``Hub`` owns what the connections share (the assistant core, the speech engines, the
synthesiser, the info event, the limits, the conversations keyed by a client's
``conversation_id``) and decides, per new connection, whether to serve it at all (the client
allowlist, the number of clients). ``Hub.serve`` runs the wyoming package's ``AsyncTcpServer``
with one :class:`~edge_assistant.hub.handler.HubHandler` per connection until ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from wyoming.info import Info
from wyoming.server import AsyncEventHandler, AsyncServer, AsyncTcpServer

from edge_assistant.assistant import Assistant
from edge_assistant.audio.wake import WakeGate
from edge_assistant.errors import ConfigError
from edge_assistant.events import Transcript
from edge_assistant.hub.announce import announce
from edge_assistant.hub.asr import TranscriberPool
from edge_assistant.hub.handler import HubHandler, Refusal
from edge_assistant.hub.protocol import Limits, client_allowed
from edge_assistant.hub.settings import WyomingSettings, parse_uri
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.tts import Synth

__all__ = ["Hub", "client_allowed"]

log = logging.getLogger(__name__)
_MAX_CONVERSATIONS = 256
_STOP_WAIT_S = 5.0


class Hub:
    """What every connection shares, and the server loop."""

    def __init__(
        self,
        assistant: Assistant,
        pool: TranscriberPool,
        settings: WyomingSettings,
        info: Info,
        synth: Synth | None = None,
        wake_phrase: str = "",
    ) -> None:
        self.assistant = assistant
        self.pool = pool
        self.settings = settings
        self.info_event = info.event()
        self.synth = synth
        self.wake_phrase = wake_phrase.lower().strip()
        self._wake = WakeGate(self.wake_phrase) if self.wake_phrase else None
        self.limits = Limits(
            max_payload_bytes=settings.max_payload_bytes,
            idle_timeout_s=settings.idle_timeout_s,
            max_events_per_s=settings.max_events_per_s,
        )
        self.clients: set[HubHandler] = set()
        self.errors: Counter[str] = Counter()
        self._allowed = [ipaddress.ip_network(a, strict=False) for a in settings.allow_clients]
        self._conversations: OrderedDict[str, Dialogue] = OrderedDict()
        self._unknown_areas: set[str] = set()  # areas clients said that the home lacks (logged once each)
        self._adaptations: OrderedDict[str, str] = OrderedDict()

    def count_error(self, code: str) -> None:
        """Count a connection closed for ``code`` (kept for the log and the tests)."""
        self.errors[code] += 1

    def connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncEventHandler:
        """The handler for a new connection: a ``HubHandler``, or a ``Refusal`` that answers with an error."""
        peer = writer.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        if self._allowed and not client_allowed(host, self._allowed):
            log.warning("refused a connection from %s: not in [wyoming] allow_clients", host)
            self.count_error("client-not-allowed")
            return Refusal("client-not-allowed", "this hub does not serve your address", reader, writer)
        if len(self.clients) >= self.settings.max_clients:
            log.warning("refused a connection from %s: %d clients already", host, len(self.clients))
            self.count_error("too-many-clients")
            return Refusal("too-many-clients", f"the hub serves {self.settings.max_clients} clients", reader, writer)
        handler = HubHandler(self, reader, writer)
        self.clients.add(handler)  # counted from now, before its task runs
        return handler

    def dialogue_for(self, context: dict[str, Any] | None, own: Dialogue) -> Dialogue:
        """The conversation a turn belongs to: the client's ``conversation_id`` (Home Assistant opens a
        connection per sentence and names its conversation), else the connection's own dialogue."""
        key = context.get("conversation_id") if context else None
        if not isinstance(key, str) or not key or len(key) > 128:
            return self._placed(own, context)
        dialogue = self._conversations.pop(key, None) or self.assistant.new_dialogue()
        self._conversations[key] = dialogue
        while len(self._conversations) > _MAX_CONVERSATIONS:
            self._conversations.popitem(last=False)
        return self._placed(dialogue, context)

    def _placed(self, dialogue: Dialogue, context: dict[str, Any] | None) -> Dialogue:
        """``dialogue`` in the room the client says it stands in (``area`` in the context, a
        satellite's ``[satellite] area``), when the home has that area; "lights off" then means
        that room's. An area the home lacks is logged once and not used."""
        said = context.get("area") if context else None
        if not isinstance(said, str) or not said.strip() or len(said) > 128:
            return dialogue
        area = self.assistant.parser.home.area(said.strip())
        if area is not None:
            dialogue.area = area.name
        elif said not in self._unknown_areas and len(self._unknown_areas) < _MAX_CONVERSATIONS:
            self._unknown_areas.add(said)
            log.warning("a client says it stands in area %r, which the home lacks; its commands have no room", said)
        return dialogue

    def adaptation_of(self, context: dict[str, Any] | None) -> str | None:
        """The speech engine's adaptation to a named client's microphone (``satellite_id`` in the context of
        its ``transcribe``), so that it survives the client's reconnects."""
        key = _client_key(context)
        return self._adaptations.get(key) if key else None

    def keep_adaptation(self, context: dict[str, Any] | None, adaptation: str | None) -> None:
        """Remember ``adaptation`` for the client named in ``context`` (the most recent few hundred)."""
        key = _client_key(context)
        if key and adaptation:
            self._adaptations.pop(key, None)
            self._adaptations[key] = adaptation
            while len(self._adaptations) > _MAX_CONVERSATIONS:
                self._adaptations.popitem(last=False)

    def command_text(self, transcript: Transcript, dialogue: Dialogue | None = None) -> str:
        """The text an ``asr`` client gets: empty for speech outside the grammar (never a forced command),
        the wake phrase kept in front when the engine heard it (a satellite checks for it), or the
        phrase alone when a short utterance was heard otherwise but the audio says the phrase as
        well (``WakeGate.said_on_audio``). Of the
        engine's hypotheses, the one the home's templates hold when the likeliest is held by none
        (``Assistant.choose_heard``, in the client's ``dialogue``)."""
        if not transcript.in_grammar or not transcript.text.strip():
            return ""
        text = transcript.text
        score = transcript.score
        if self._wake is not None and score is not None and self._wake.said_on_audio(text, score):
            return self.wake_phrase  # "There's no board": the audio says "snowboy" alone as well
        alternatives = transcript.extra.get("alternatives")
        if alternatives:
            text = self._chosen(text, alternatives, dialogue)
        if self.wake_phrase and transcript.extra.get("wake") and not text.lower().startswith(self.wake_phrase):
            text = f"{self.wake_phrase} {text}"
        return text

    def _chosen(self, text: str, alternatives: list[str], dialogue: Dialogue | None) -> str:
        """``choose_heard`` on the command after the wake phrase, when the transcript opens with it."""
        gate = self._wake
        command = gate.strip(text) if gate is not None else None
        if gate is None or command is None:
            return self.assistant.choose_heard(text, alternatives, dialogue)
        commands = [c for c in (gate.strip(a) for a in alternatives) if c]
        chosen = self.assistant.choose_heard(command, commands, dialogue)
        return text if chosen == command else f"{self.wake_phrase} {chosen}"

    async def serve(self, uri: str, stop: asyncio.Event, *, zeroconf: bool = True,
                    on_ready: Callable[[str], None] | None = None) -> None:  # fmt: skip
        """Listen on ``uri`` until ``stop`` is set, then close every connection and the assistant."""
        host, port = parse_uri(uri)
        server = AsyncServer.from_uri(uri)
        assert isinstance(server, AsyncTcpServer)
        try:
            await server.start(self.connect)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {uri}: {exc.strerror or exc}", field="wyoming.uri") from exc
        announcement = announce(host, port, self.settings.zeroconf_name) if zeroconf else None
        if not ipaddress.ip_address(_resolved(host)).is_loopback and not self._allowed:
            log.warning("listening on %s with no [wyoming] allow_clients: any host that reaches it is served", uri)
        if on_ready is not None:
            on_ready(uri)
        try:
            await stop.wait()
        finally:
            await server.stop()
            await self._drain()
            if announcement is not None:
                await announcement.close()

    async def _drain(self) -> None:
        """Wait for the connections to end (their handlers were told to stop)."""
        for _ in range(int(_STOP_WAIT_S / 0.05)):
            if not self.clients:
                return
            await asyncio.sleep(0.05)
        log.warning("%d connections did not close in %g s", len(self.clients), _STOP_WAIT_S)


def _client_key(context: dict[str, Any] | None) -> str | None:
    key = context.get("satellite_id") if context else None
    return key if isinstance(key, str) and 0 < len(key) <= 128 else None


def _resolved(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        import socket

        try:
            return socket.gethostbyname(host)
        except OSError:
            return "0.0.0.0"  # noqa: S104  # unknown: treated as not loopback, so the warning shows
