"""The handler contract: what a handler is given (``Call``), what it answers (``Outcome``).

A handler says which calls a command needs (``keys``: ``None`` for one call about the whole
intent, or one entity id per call), acts on each call, and is closed once. The dispatcher runs
the calls concurrently with the handler's timeout, so a hung handler never holds up another.
Faults while acting are an ``Outcome`` with ``ok=False``; ``HandlerError`` is only for set-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from edge_assistant.handlers.settings import Route

__all__ = [
    "Call",
    "Command",
    "Handler",
    "Outcome",
    "TemplateError",
    "domain_of",
    "entity_keys",
    "intent_keys",
    "render",
]


@dataclass(frozen=True)
class Command:
    """One validated intent to act on: every slot value has passed the catalog schema."""

    utterance_id: str
    intent: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    text: str = ""
    confidence: float = 1.0
    source: str = "template"


@dataclass(frozen=True)
class Call:
    """One handler call: the command, the entity it acts on (None: the whole intent), a default reply."""

    command: Command
    entity: str | None = None
    reply: str = ""

    def values(self) -> dict[str, Any]:
        """Placeholder values for templates: the slots plus intent, entity, text and utterance_id."""
        cmd = self.command
        base = {"intent": cmd.intent, "text": cmd.text, "utterance_id": cmd.utterance_id}
        return {**base, **cmd.slots, "entity": self.entity or ""}

    def payload(self) -> dict[str, Any]:
        """The JSON object that the log, http and default mqtt payloads carry."""
        cmd = self.command
        return {
            "utterance_id": cmd.utterance_id,
            "intent": cmd.intent,
            "slots": dict(cmd.slots),
            "targets": list(cmd.targets),
            "entity": self.entity,
            "text": cmd.text,
            "confidence": cmd.confidence,
            "source": cmd.source,
        }


@dataclass(frozen=True)
class Outcome:
    """What a handler call did. ``reply`` (when set) replaces the default reply, e.g. a state read."""

    ok: bool = True
    reply: str | None = None
    error: str | None = None


@runtime_checkable
class Handler(Protocol):
    """A device handler; third-party handlers implement the same three methods and ``name``."""

    name: str

    def keys(self, command: Command) -> list[str | None]:
        """The calls ``command`` needs: ``[None]`` for one call, entity ids for per-entity calls."""
        ...

    async def handle(self, call: Call) -> Outcome:
        """Act on one call; report faults in the ``Outcome`` rather than raising."""
        ...

    async def aclose(self) -> None:
        """Deliver or fail what is queued, then release connections and pins."""
        ...


def domain_of(entity_id: str) -> str:
    """``light`` for ``light.kitchen``."""
    return entity_id.split(".", 1)[0]


def entity_keys(route: Route, command: Command, bound: Sequence[str] | Mapping[str, Any] | None = None) -> list[str]:
    """Targets of ``command`` that ``route`` (and, when given, the ``bound`` entity ids) accept."""
    if route.intents and command.intent not in route.intents:
        return []
    return [
        t
        for t in command.targets
        if (not route.domains or domain_of(t) in route.domains)
        and (not route.entity_ids or t in route.entity_ids)
        and (bound is None or t in bound)
    ]


def intent_keys(route: Route, command: Command) -> list[str | None]:
    """``[None]`` when ``route`` takes the command as a whole, else ``[]``."""
    if route.intents and command.intent not in route.intents:
        return []
    if (route.domains or route.entity_ids) and not entity_keys(route, command):
        return []
    return [None]


class TemplateError(ValueError):
    """A template names a value the command does not have."""


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    if name not in values:
        raise TemplateError(f"the template needs '{name}', which this command does not have")
    return values[name]


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill ``{name}`` placeholders; a string that is exactly one placeholder keeps the value's type.

    In a mapping, an entry that is exactly one placeholder the command lacks is left out, so that
    ``{brightness = "{brightness}", color = "{color}"}`` sends what was said ("make it red": the
    colour only); a mapping left with nothing, or any other missing value, is a TemplateError.
    """
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return _lookup(values, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: str(_lookup(values, m.group(1))), template)
    if isinstance(template, Mapping):
        filled: dict[Any, Any] = {}
        missing: TemplateError | None = None
        for key, value in template.items():
            whole = _PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
            if whole is not None and whole.group(1) not in values:
                missing = missing or TemplateError(
                    f"the template needs '{whole.group(1)}', which this command does not have"
                )
                continue
            filled[key] = render(value, values)
        if missing is not None and not filled:
            raise missing
        return filled
    if isinstance(template, (list, tuple)):
        return [render(v, values) for v in template]
    return template
