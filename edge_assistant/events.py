"""Message types passed between the stages of the pipeline.

Every type that crosses a stage boundary lives here, so that speech, understanding, dispatch, the
assistant core and the daemon agree on them: ``Transcript`` (speech to text), ``IntentResult``
(the parse contract), ``ActionResult`` (one handler call) and ``UtteranceRecord`` (all of it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from edge_assistant.nlu.dialogue import Dialogue

__all__ = [
    "ActionResult",
    "Dispatcher",
    "IntentResult",
    "Scorer",
    "Speaker",
    "Transcript",
    "UtteranceRecord",
    "WordInfo",
    "hand_over",
]


# The log-probability of each text as what was said in one utterance's audio (``Transcript.score``).
Scorer = Callable[[Sequence[str]], list[float]]


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
    # The log-probability of other texts as what was said in this utterance's audio, where the
    # engine can weigh them (Whisper); None where it cannot.
    score: Scorer | None = field(default=None, repr=False, compare=False)


class IntentResult(BaseModel):
    """The parse contract: one JSON object per utterance (what ``parse`` prints).

    An utterance with several commands ("turn off the hallway light and lock the back gate") lists
    them in ``commands``, one full result per command in the order spoken; the top-level fields are
    then those of the first command, except ``text`` and ``latency_ms``, which are the whole
    utterance's. ``commands`` is empty, and left out of the JSON, for a single command: its JSON
    is the same as before commands existed. ``slots`` of one command that names several devices
    or places ("the porch light and the patio light") hold a list under ``name`` (or ``area``,
    ``floor``).
    """

    text: str
    intent: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    targets: list[str] = Field(default_factory=list)
    confidence: float = 0.0
    source: Literal["template", "model", "none"] = "none"
    latency_ms: float = 0.0
    reason: str | None = None
    # Rejected only for a missing value: the intent that the question in ``reason`` completes.
    awaiting: str | None = None
    # Several commands in one utterance, each a full result; empty for one command.
    commands: list[IntentResult] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _single_keeps_its_shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``commands`` out of a single command's JSON, so that it keeps today's shape."""
        data: dict[str, Any] = handler(self)
        if not self.commands:
            data.pop("commands", None)
        return data

    @property
    def understood(self) -> bool:
        """True when the utterance (or one of its commands) has an intent or asks for a value."""
        return any(c.intent is not None or c.awaiting for c in (self, *self.commands))


class ActionResult(BaseModel):
    """What one handler call did: printed under ``"actions"`` by ``handle``, ``listen`` and ``run``."""

    model_config = ConfigDict(frozen=True)
    handler: str
    entity: str | None = None
    ok: bool
    reply: str = ""
    error: str | None = None
    latency_ms: float = 0.0
    # "" (unspecified), "done", "failed", "dry_run", or from the policy: "confirm" (a question was
    # asked), "cancelled", "expired", "denied"; "rejected" when the parse was rejected.
    status: Literal["", "done", "failed", "dry_run", "confirm", "cancelled", "expired", "denied", "rejected"] = ""


class UtteranceRecord(BaseModel):
    """Everything known about one utterance once it is done: logged as one line, kept by ``status``.

    ``parse`` has neither text nor intent when nothing was parsed (the engine failed). ``timings_ms``
    holds per-stage durations (``stt``, ``nlu``, ``dispatch``) and ``speech_end_to_intent`` where
    the utterance came from audio. ``early_decodes`` counts the decodes a whole-utterance engine
    started at the speaker's pauses (``[stt] early_decode_ms``); ``heard_early``: the transcript is
    the last of them (nothing was said after it).
    """

    id: str
    started_at: float
    file: str | None = None
    transcript: str | None = None
    parse: IntentResult = Field(default_factory=lambda: IntentResult(text=""))
    actions: list[ActionResult] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    early_decodes: int = 0
    heard_early: bool = False
    error: str | None = None


class Dispatcher(Protocol):
    """Turns a parsed utterance into handler calls (implemented in ``edge_assistant.dispatch``)."""

    async def dispatch(
        self, result: IntentResult, utterance_id: str, dialogue: Dialogue | None = None
    ) -> list[ActionResult]:
        """Run the handlers for ``result`` in the conversation ``dialogue``; never raises for a
        handler fault (it goes in the result)."""
        ...

    async def aclose(self) -> None:
        """Flush queues and close connections."""
        ...


class Speaker(Protocol):
    """Speaks a reply; the pipeline mutes the microphone while ``say`` runs."""

    async def say(self, text: str) -> None:
        """Speak ``text`` and return when the sound has finished playing."""
        ...


def hand_over(listener: Callable[[UtteranceRecord], None] | None, record: UtteranceRecord) -> None:
    """Give ``record`` to the stage's listener; the listener's fault is logged, never raised into the loop."""
    if listener is None:
        return
    try:
        listener(record)
    except Exception:
        logging.getLogger(__name__).exception("on_utterance failed for %s", record.id)
