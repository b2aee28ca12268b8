"""Utterances as text lines: the daemon's input when there is no microphone (a chat bridge, a
keyboard, replayed transcripts), with the same parse, dispatch, reply and record as speech."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import BinaryIO

from edge_assistant.events import Dispatcher, Speaker, UtteranceRecord, hand_over
from edge_assistant.nlu.parser import IntentResult, Parser
from edge_assistant.replies import summarize

__all__ = ["TextLoop"]

log = logging.getLogger(__name__)


class TextLoop:
    """One utterance per UTF-8 line of ``stream``; ``run()`` returns at end of stream or after ``stop()``."""

    def __init__(
        self,
        stream: BinaryIO,
        parser: Parser,
        dispatcher: Dispatcher | None = None,
        speaker: Speaker | None = None,
        on_utterance: Callable[[UtteranceRecord], None] | None = None,
        name: str = "stdin",
    ) -> None:
        self.stream = stream
        self.parser = parser
        self.dispatcher = dispatcher
        self.speaker = speaker
        self.on_utterance = on_utterance
        self.name = name
        self._stopping = False
        self._reading: asyncio.Future[bytes] | None = None

    def stop(self) -> None:
        """Finish the line in progress, then return from ``run()`` (a wait for input is cancelled)."""
        self._stopping = True
        if self._reading is not None:
            self._reading.cancel()

    def swap_parser(self, parser: Parser) -> None:
        """Use ``parser`` from the next line on."""
        self.parser = parser

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
        start = time.perf_counter()
        result: IntentResult = await asyncio.to_thread(self.parser.parse, text)
        timings = {"nlu": (time.perf_counter() - start) * 1000}
        actions = []
        if self.dispatcher is not None:
            # Rejected parses go too: the dispatcher answers "Sorry, there is no dishwasher" and
            # takes "yes"/"no" as the answer to a pending confirmation.
            begin = time.perf_counter()
            actions = await self.dispatcher.dispatch(result, record.id)
            timings["dispatch"] = (time.perf_counter() - begin) * 1000
        reply = summarize(actions)
        if self.speaker is not None and reply:
            await self.speaker.say(reply)
        timings = {k: round(v, 2) for k, v in timings.items()}
        return record.model_copy(
            update={"transcript": text, "parse": result.model_dump(), "actions": actions, "timings_ms": timings}
        )

    def _emit(self, record: UtteranceRecord) -> None:
        parse = record.parse
        log.info(
            "utterance %s source=%s text=%r intent=%s targets=%s reason=%s timings_ms=%s",
            record.id, self.name, record.transcript, parse.get("intent"), parse.get("targets"),
            parse.get("reason") or record.error, record.timings_ms,
        )  # fmt: skip
        hand_over(self.on_utterance, record)
