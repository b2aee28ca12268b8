"""The ``log`` handler: one JSON line per intent, to stderr, stdout or a file.

It is the default when no handler is configured, so a fresh install shows what it would do.
stderr is its default because stdout carries the ``handle``/``parse`` JSON contract; under
systemd both end up in the journal.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from edge_assistant.errors import HandlerError
from edge_assistant.handlers.base import Call, Command, Outcome, intent_keys
from edge_assistant.handlers.settings import LogSettings

__all__ = ["LogHandler"]

log = logging.getLogger(__name__)


class LogHandler:
    """Writes each call as a JSON line: the intent, slots, targets, and ``dry_run`` when not acting."""

    def __init__(self, settings: LogSettings | None = None, name: str = "log", stream: TextIO | None = None) -> None:
        self.name = name
        self.settings = settings or LogSettings()
        self._lock = threading.Lock()
        self._owned: TextIO | None = None
        self._stream = stream or self._open(self.settings.path)

    def _open(self, path: str) -> TextIO:
        if path == "stdout":
            return sys.stdout
        if path in ("stderr", ""):
            return sys.stderr
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._owned = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in aclose
        except OSError as exc:
            raise HandlerError(f"[handlers.log] path: cannot open '{path}' for appending: {exc.strerror}") from exc
        return self._owned

    def keys(self, command: Command) -> list[str | None]:
        """One line per intent."""
        return intent_keys(self.settings, command)

    def write(self, call: Call, dry_run: bool = False) -> None:
        """Append the call as one JSON line (also how the dispatcher records a dry run)."""
        record = {"ts": round(time.time(), 3), **call.payload(), "reply": call.reply, "dry_run": dry_run}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()

    async def handle(self, call: Call) -> Outcome:
        """Write the line; a full disk or closed stream is a failed outcome."""
        try:
            self.write(call)
        except (OSError, ValueError) as exc:
            return Outcome(ok=False, error=f"cannot write the log line: {exc}")
        return Outcome()

    async def aclose(self) -> None:
        """Close the file if this handler opened one. Lines a full disk refused were reported
        by their calls; closing says once that they stay unwritten, with no traceback."""
        owned, self._owned = self._owned, None
        if owned is not None:
            try:
                owned.close()
            except OSError as exc:
                log.warning("[handlers.log] %s: closed with lines unwritten: %s", self.settings.path, exc.strerror)
