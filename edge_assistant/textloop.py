"""Utterances as text lines: the daemon's input when there is no microphone (a chat bridge, a
keyboard, replayed transcripts): each line is one turn of the ``Assistant``, recorded as speech is."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import BinaryIO

from edge_assistant.assistant import Assistant
from edge_assistant.events import UtteranceRecord, hand_over
from edge_assistant.stt import Transcriber

__all__ = ["TextLoop"]

log = logging.getLogger(__name__)


class TextLoop:
    """One utterance per UTF-8 line of ``stream``; ``run()`` returns at end of stream or after ``stop()``."""

    def __init__(
        self,
        stream: BinaryIO,
        assistant: Assistant,
        on_utterance: Callable[[UtteranceRecord], None] | None = None,
        name: str = "stdin",
    ) -> None:
        self.stream = stream
        self.assistant = assistant
        self.on_utterance = on_utterance
        self.name = name
        self._stopping = False
        self._reading: asyncio.Future[bytes] | None = None

    def stop(self) -> None:
        """Finish the line in progress, then return from ``run()`` (a wait for input is cancelled)."""
        self._stopping = True
        if self._reading is not None:
            self._reading.cancel()

    def swap_assistant(self, assistant: Assistant, transcriber: Transcriber | None = None) -> None:
        """Use ``assistant`` from the next line on (there is no speech engine to swap)."""
        self.assistant = assistant

    async def run(self) -> None:
        """Read, parse (in a worker thread), dispatch, reply, record; one bad line never stops it."""
        while not self._stopping:
            self._reading = asyncio.ensure_future(asyncio.to_thread(self.stream.readline))
            try:
                raw = await self._reading
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            finally:
                self._reading = None
            if not raw:
                return
            record = UtteranceRecord(id=uuid.uuid4().hex[:8], started_at=time.time(), file=self.name)
            try:
                record = await self._one(raw, record)
            except Exception as exc:  # a stage boundary: log with the id and go on
                log.exception("utterance %s failed", record.id)
                record = record.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
            self._emit(record)

    async def _one(self, raw: bytes, record: UtteranceRecord) -> UtteranceRecord:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            return record.model_copy(update={"error": f"line is not valid UTF-8: {exc}"})
        turn = await self.assistant.handle_async(text, utterance_id=record.id)
        return record.model_copy(
            update={"transcript": text, "parse": turn.parse, "actions": turn.actions, "timings_ms": turn.timings_ms}
        )

    def _emit(self, record: UtteranceRecord) -> None:
        parse = record.parse
        log.info(
            "utterance %s source=%s text=%r intent=%s targets=%s reason=%s timings_ms=%s",
            record.id, self.name, record.transcript, parse.intent, parse.targets,
            parse.reason or record.error, record.timings_ms,
        )  # fmt: skip
        hand_over(self.on_utterance, record)
