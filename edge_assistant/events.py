"""Frozen message types passed between the stages of the pipeline.

``IntentResult`` (the parse contract) lives in :mod:`edge_assistant.nlu.parser`; the types here
are the others that cross a stage boundary, so that speech, dispatch and the daemon agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ActionResult", "Transcript", "WordInfo"]


@dataclass(frozen=True)
class WordInfo:
    """One recognised word with its confidence in [0, 1] and its times in seconds."""

    word: str
    conf: float = 1.0
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """The final text of one utterance from a speech engine.

    ``confidence`` is in [0, 1]; ``in_grammar`` is False when the engine's evidence says the
    speech was off-topic or noise forced onto the grammar, so it must not be executed.
    """

    text: str
    confidence: float = 1.0
    words: tuple[WordInfo, ...] = ()
    engine: str = ""
    in_grammar: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class ActionResult(BaseModel):
    """What one handler call did: printed under ``"actions"`` by ``handle``, ``listen`` and ``run``."""

    model_config = ConfigDict(frozen=True)
    handler: str
    entity: str | None = None
    ok: bool
    reply: str = ""
    error: str | None = None
    latency_ms: float = 0.0
