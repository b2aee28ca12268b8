"""JSON lines on stdout and utterance lines from stdin: the I/O every command shares."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["emit", "stdin_lines"]


def emit(obj: Any) -> None:
    """Write ``obj`` as one JSON line on stdout and flush it (pipes see each utterance at once)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def stdin_lines() -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, error) for each stdin line; text is None when it is not UTF-8."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield number, raw.decode("utf-8").rstrip("\r\n"), None
        except UnicodeDecodeError as exc:
            yield number, None, f"line is not valid UTF-8: {exc}"
