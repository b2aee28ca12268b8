"""TEMPORARY: the ``Assistant`` API of issue 18 over the current runtime, until assistant.py lands.

Delete this module when ``edge_assistant.Assistant`` is on main; the hub imports it by name only.
The parser and dispatcher here keep one conversation's state on themselves, so each call swaps
the caller's dialogue in and out under one lock.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_assistant.config import Settings, load_settings
from edge_assistant.events import ActionResult
from edge_assistant.nlu.parser import IntentResult, Parser

__all__ = ["Assistant", "Dialogue", "Turn"]


@dataclass
class Dialogue:
    """What one conversation remembers between its utterances."""

    parser_state: tuple[Any, Any, dict[str, str]] = (None, None, {})
    confirmation: Any = None


@dataclass
class Turn:
    """One handled utterance."""

    parse: IntentResult
    actions: list[ActionResult]
    reply: str
    handled: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    id: str = ""


class Assistant:
    """Parse -> policy/dispatch -> reply, one call at a time."""

    def __init__(self, settings: Settings, parser: Parser, dispatcher: Any) -> None:
        self.settings = settings
        self.parser = parser
        self.dispatcher = dispatcher
        self._lock = threading.Lock()
        self._default = Dialogue()

    @classmethod
    def from_config(
        cls, config: str | Path | None = None, *, home: str | Path | None = None, use_model: bool = True,
        speak: bool = False,
    ) -> Assistant:  # fmt: skip
        """Build from the TOML config and home YAML, as the CLI does."""
        from edge_assistant.dispatch import build_dispatcher
        from edge_assistant.runtime import build_parser, resolve_home_path

        settings = load_settings(str(config) if config else None)
        home_path = resolve_home_path(settings, config, home)
        parser = build_parser(settings, home_path, use_model=use_model)
        parser.parse("cancel the timer")
        return cls(settings, parser, build_dispatcher(settings, parser.home, parser.catalog))

    def new_dialogue(self) -> Dialogue:
        """A fresh conversation."""
        return Dialogue()

    def _swap_in(self, d: Dialogue) -> None:
        p: Any = self.parser
        p._candidate, p._pending, p._colours = d.parser_state
        self.dispatcher._pending = d.confirmation

    def _swap_out(self, d: Dialogue) -> None:
        p: Any = self.parser
        d.parser_state = (p._candidate, p._pending, p._colours)
        d.confirmation = self.dispatcher._pending

    def parse(self, text: str, dialogue: Dialogue | None = None) -> IntentResult:
        """The parse only."""
        d = dialogue or self._default
        with self._lock:
            self._swap_in(d)
            try:
                return self.parser.parse(text)
            finally:
                self._swap_out(d)

    async def handle_async(self, text: str, dialogue: Dialogue | None = None) -> Turn:
        """Parse, dispatch, reply."""
        from edge_assistant.replies import summarize

        d = dialogue or self._default
        start = time.perf_counter()
        await asyncio.to_thread(self._lock.acquire)
        try:
            self._swap_in(d)
            try:
                result = await asyncio.to_thread(self.parser.parse, text)
                actions = await self.dispatcher.dispatch(result, uuid.uuid4().hex[:8])
            finally:
                self._swap_out(d)
        finally:
            self._lock.release()
        handled = any(a.ok for a in actions) or any(a.status == "confirm" for a in actions) or bool(result.awaiting)
        reply = summarize(actions) or (result.reason or "")
        timings = {"total": round((time.perf_counter() - start) * 1000, 2)}
        return Turn(result, actions, reply, handled, timings, uuid.uuid4().hex[:8])

    async def aclose(self) -> None:
        """Close the handlers."""
        await self.dispatcher.aclose()
