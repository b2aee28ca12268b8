"""Commands the ear nearly heard, as a benchmark run weighed them (``Assistant.heard_command``).

The assistant logs each weighing (taken at INFO, left at DEBUG) with the evidence attached; a
benchmark collects them for its JSON report, so that the gap and margin the assistant decides on
can be read against what was said.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["recorded_weighings", "summary"]


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rows: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        weighed = getattr(record, "weighing", None)
        if weighed is None:
            return
        self.rows.append(
            {
                "heard": getattr(record, "heard", ""),
                "read": getattr(record, "read", None),  # the model's intent, None when nothing acted
                "candidate": weighed.candidate,
                "gap": round(weighed.gap, 3),
                "lead": None if weighed.lead is None else round(weighed.lead, 3),
                "taken": weighed.taken,
                "weighed": weighed.weighed,
            }
        )


@contextmanager
def recorded_weighings() -> Iterator[list[dict[str, Any]]]:
    """The weighings made while the block runs, one dict each, in order."""
    logger = logging.getLogger("edge_assistant.assistant")
    collector = _Collector()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collector)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the report holds them; the console is left as it was
    try:
        yield collector.rows
    finally:
        logger.removeHandler(collector)
        logger.setLevel(level)
        logger.propagate = propagate


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the report: weighed, taken, and of those taken how many overrode the model."""
    taken = [r for r in rows if r["taken"]]
    return {
        "weighed": len(rows),
        "taken": len(taken),
        "taken_over_the_model": sum(r["read"] is not None for r in taken),
        "rows": rows,
    }
