"""The satellite's side of the Wyoming protocol: one connection to a hub, reopened when it drops.

``HubClient`` speaks to any server with ``asr`` and ``handle`` programs (``edge-assistant
wyoming``, or another Wyoming server): an utterance is ``transcribe`` + ``audio-start`` +
``audio-chunk``... + ``audio-stop`` -> ``transcript``; the command is ``transcript`` ->
``handled`` / ``not-handled``; a reply is ``synthesize`` -> audio when the hub has ``tts``.
Every turn carries the same ``conversation_id``, so a question the hub asks ("Are you sure?")
is answered by this satellite's next utterance even across a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import uuid
import wave
from typing import Any

from wyoming import asr
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from edge_assistant.audio import SAMPLE_RATE
from edge_assistant.errors import EdgeAssistantError, SpeechError
from edge_assistant.tts import Player

__all__ = ["HubClient", "HubError", "HubReply", "HubSpeaker"]

log = logging.getLogger(__name__)


class HubError(EdgeAssistantError):
    """The hub cannot be reached, closed the connection, or answered with an error event."""


class HubReply:
    """The hub's answer to a command: handled or not (None: not known), and the text to speak."""

    def __init__(self, handled: bool | None, text: str) -> None:
        self.handled = handled
        self.text = text


class HubClient:
    """A connection to ``uri`` (``tcp://HOST:PORT``), opened on first use and after a failure."""

    checks_wake = True  # the satellite checks its wake phrase in the hub's transcript
    speaking = False  # replies are spoken by the satellite's own voice, which mutes the microphone itself

    def __init__(self, uri: str, timeout_s: float = 15.0, name: str = "", area: str = "") -> None:
        self.uri = uri
        self.timeout_s = timeout_s
        self.name = name or socket.gethostname()
        self.context: dict[str, Any] = {
            "conversation_id": f"satellite-{self.name}-{uuid.uuid4().hex[:8]}",
            "satellite_id": self.name,
            **({"area": area} if area else {}),  # the room it stands in: the hub's parse takes it as "here"
        }
        self.info: Info | None = None
        self._client: AsyncClient | None = None

    @property
    def has_tts(self) -> bool:
        """Whether the hub offers speech synthesis."""
        return self.info is not None and any(p.installed for p in self.info.tts)

    async def connect(self) -> Info:
        """Open the connection (if it is not open) and ask the hub what it serves."""
        if self._client is None:
            client = AsyncClient.from_uri(self.uri, connect_timeout=self.timeout_s, read_timeout=self.timeout_s)
            try:
                await client.connect()
            except (OSError, asyncio.TimeoutError) as exc:
                raise HubError(f"cannot reach the hub at {self.uri}: {exc}") from exc
            self._client = client
            await self._send(Describe().event())
            self.info = Info.from_event(await self._expect(Info.is_type))
            if not self.info.asr or not self.info.handle:
                log.warning("the hub at %s offers no asr or no handle program", self.uri)
        assert self.info is not None
        return self.info

    async def close(self) -> None:
        """Close the connection."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                await client.disconnect()

    async def start_utterance(self) -> None:
        """Announce an utterance of 16 kHz mono S16LE audio (reconnecting once if the hub went away)."""
        for attempt in (1, 2):
            try:
                await self.connect()
                await self._send(asr.Transcribe(language="en", context=self.context).event())
                await self._send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
                return
            except HubError:
                await self.close()
                if attempt == 2:
                    raise

    async def audio(self, pcm: bytes) -> None:
        """Stream a chunk of the utterance."""
        await self._send(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm).event())

    async def end_utterance(self) -> str:
        """End the utterance; the hub's transcript ("" when it heard no command)."""
        await self._send(AudioStop().event())
        return asr.Transcript.from_event(await self._expect(asr.Transcript.is_type)).text

    async def handle(self, text: str) -> HubReply:
        """Have the hub act on ``text``."""
        await self._send(asr.Transcript(text=text, context=self.context).event())
        event = await self._expect(lambda kind: Handled.is_type(kind) or NotHandled.is_type(kind))
        return HubReply(Handled.is_type(event.type), str(event.data.get("text") or ""))

    async def synthesize(self, text: str) -> bytes:
        """The hub's speech for ``text``, as a WAV file."""
        await self._send(Synthesize(text=text).event())
        start = AudioStart.from_event(await self._expect(AudioStart.is_type))
        pcm = bytearray()
        while not AudioStop.is_type((event := await self._expect(lambda k: True)).type):
            if AudioChunk.is_type(event.type):
                pcm += AudioChunk.from_event(event).audio
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setframerate(start.rate)
            out.setsampwidth(start.width)
            out.setnchannels(start.channels)
            out.writeframes(bytes(pcm))
        return buffer.getvalue()

    async def _send(self, event: Event) -> None:
        if self._client is None:
            raise HubError(f"not connected to the hub at {self.uri}")
        try:
            await asyncio.wait_for(self._client.write_event(event), self.timeout_s)
        except (OSError, asyncio.TimeoutError, RuntimeError) as exc:
            await self.close()
            raise HubError(f"lost the hub at {self.uri}: {exc or type(exc).__name__}") from exc

    async def _expect(self, wanted: Any) -> Event:
        """The next event whose type ``wanted`` accepts; an error event or a closed connection raises."""
        while True:
            if self._client is None:
                raise HubError(f"not connected to the hub at {self.uri}")
            try:
                event = await self._client.read_event()
            except (OSError, asyncio.TimeoutError) as exc:
                await self.close()
                raise HubError(f"no answer from the hub at {self.uri} within {self.timeout_s:g} s") from exc
            if event is None:
                await self.close()
                raise HubError(f"the hub at {self.uri} closed the connection")
            if Error.is_type(event.type):
                error = Error.from_event(event)
                raise HubError(f"the hub answered with an error: {error.text} ({error.code})")
            if wanted(event.type):
                return event
            log.debug("ignored a %s event from the hub", event.type)


class HubSpeaker:
    """Implements ``events.Speaker`` with the hub's ``tts`` and a local player; faults are logged."""

    def __init__(self, client: HubClient, player: Player) -> None:
        self.client = client
        self.player = player

    async def say(self, text: str) -> None:
        """Synthesise on the hub, play here."""
        try:
            await self.player.play(await self.client.synthesize(text))
        except (HubError, SpeechError, OSError) as exc:
            log.warning("cannot speak %r: %s", text, exc)
