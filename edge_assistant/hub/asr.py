"""Speech to text for many clients: a pool of loaded engines, and one streaming decode per utterance.

A speech engine decodes one utterance at a time (pocketsphinx reuses one decoder), so the hub
keeps up to ``[wyoming] asr_sessions`` engines loaded side by side and lends one to each
utterance while the client speaks. Audio is decoded as it arrives, in a worker thread, so the
transcript is ready a moment after ``audio-stop``; a client that finds every engine busy has its
audio queued until one comes free.

An engine that adapts to its input (pocketsphinx's cepstral mean: the microphone and the room)
would carry one client's adaptation into the next client's utterance. So the adaptation travels
with the client instead: the engine starts each utterance from the client's own (or, for a new
client, the last one the hub saw), and the decode hands the updated one back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar, Protocol, runtime_checkable

from edge_assistant.events import Transcript
from edge_assistant.stt import Transcriber

__all__ = ["Adapting", "Replicable", "TranscriberPool", "UtteranceDecode", "replicator"]

log = logging.getLogger(__name__)
_MAX_BATCH_BYTES = 64 * 1024


@runtime_checkable
class Replicable(Protocol):
    """An engine that makes another like itself cheaply (the grammar is compiled once)."""

    def replica(self) -> Transcriber:
        """A new engine with the same model and grammar, decoding independently."""
        ...


@runtime_checkable
class Adapting(Protocol):
    """An engine whose input normalisation adapts over utterances, and can continue from a saved state."""

    def adaptation(self) -> str | None:
        """What it has adapted to so far (None: nothing heard yet)."""
        ...

    def adapt(self, adaptation: str) -> None:
        """Continue from ``adaptation``."""
        ...


def replicator(first: Transcriber, build: Callable[[], Transcriber]) -> Callable[[], Transcriber]:
    """How the pool makes its next engine: a replica of ``first`` where the engine can, else ``build``."""
    return first.replica if isinstance(first, Replicable) else build


class TranscriberPool:
    """Up to ``size`` engines made by ``factory`` (in a worker thread, on first need)."""

    def __init__(self, factory: Callable[[], Transcriber], size: int, first: Transcriber | None = None) -> None:
        self._factory = factory
        self.size = size
        self._idle: list[Transcriber] = [first] if first is not None else []
        self.loaded = len(self._idle)
        self._freed = asyncio.Condition()
        self.last_adaptation: str | None = None  # where a new client starts

    async def fill(self) -> None:
        """Load every engine now (the first clients then wait for none)."""
        while self.loaded < self.size:
            self.loaded += 1
            try:
                engine = await asyncio.to_thread(self._factory)
            except BaseException:
                self.loaded -= 1
                raise
            await self.release(engine)

    async def acquire(self, adaptation: str | None = None) -> Transcriber:
        """An idle engine (a new one while fewer than ``size`` exist, else the next one freed), set to
        continue from ``adaptation`` (default: the last one seen)."""
        async with self._freed:
            if not self._idle and self.loaded >= self.size:
                await self._freed.wait_for(lambda: bool(self._idle))
            engine = self._idle.pop() if self._idle else None
            if engine is None:
                self.loaded += 1
        if engine is None:
            try:
                engine = await asyncio.to_thread(self._factory)
            except BaseException:
                self.loaded -= 1
                raise
        start = adaptation or self.last_adaptation
        if start is not None and isinstance(engine, Adapting):
            engine.adapt(start)
        return engine

    async def release(self, engine: Transcriber) -> str | None:
        """Give ``engine`` back (its utterance is finished); returns what it adapted to."""
        adaptation = engine.adaptation() if isinstance(engine, Adapting) else None
        self.last_adaptation = adaptation or self.last_adaptation
        async with self._freed:
            self._idle.append(engine)
            self._freed.notify()
        return adaptation


class UtteranceDecode:
    """One utterance: ``feed`` 16 kHz mono S16LE as it arrives, then ``finish`` for the transcript.

    The decode runs as a task that borrows an engine for its whole length and always ends the
    engine's utterance before giving it back, even when the client went away (``abandon``).
    ``adaptation`` is the client's, before the utterance and (once finished) after it.
    """

    _background: ClassVar[set[asyncio.Task[Transcript]]] = set()  # abandoned decodes, kept from the GC

    def __init__(self, pool: TranscriberPool, adaptation: str | None = None) -> None:
        self._pool = pool
        self.adaptation = adaptation
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.bytes = 0
        self._task = asyncio.create_task(self._decode(), name="decode")

    def feed(self, pcm: bytes) -> None:
        """Queue converted audio for the decoder."""
        if pcm:
            self.bytes += len(pcm)
            self._queue.put_nowait(pcm)

    async def finish(self) -> Transcript:
        """The transcript, once the audio queued so far is decoded."""
        self._queue.put_nowait(None)
        return await self._task

    def abandon(self) -> None:
        """The client is gone: let the decode end on its own and drop its result."""
        self._queue.put_nowait(None)
        task = self._task
        UtteranceDecode._background.add(task)
        task.add_done_callback(_forget)

    async def _decode(self) -> Transcript:
        engine = await self._pool.acquire(self.adaptation)
        try:
            session = await asyncio.to_thread(engine.start)
            while (chunk := await self._next_batch()) is not None:
                await asyncio.to_thread(session.accept, chunk)
            return await asyncio.to_thread(session.finish)
        finally:
            self.adaptation = await self._pool.release(engine) or self.adaptation

    async def _next_batch(self) -> bytes | None:
        """The audio waiting, joined (one thread hop for a burst of chunks); None at the end."""
        first = await self._queue.get()
        if first is None:
            return None
        parts, size = [first], len(first)
        while size < _MAX_BATCH_BYTES and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._queue.put_nowait(None)  # the end marker is seen on the next call
                break
            parts.append(item)
            size += len(item)
        return b"".join(parts)


def _forget(task: asyncio.Task[Transcript]) -> None:
    UtteranceDecode._background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("an abandoned utterance failed to decode: %s", task.exception())
