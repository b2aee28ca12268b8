"""Intent -> handler calls, under the safety policy.

``Dispatcher.dispatch`` turns one parse into handler calls: each handler says which calls the
command needs (routing by intent, domain and entity comes from its config section), the calls run
concurrently, each under its handler's timeout, and every call becomes one ``ActionResult``. A
handler that raises or hangs is reported and never holds up the loop or another handler.

The policy decides allow | confirm | deny per intent, domain, device class and entity. For a
confirm the dispatcher asks "Are you sure ...?" and keeps the command in the conversation's
``Dialogue``; the next utterance's text in that conversation is the answer, and only a yes within
``confirm_timeout_s`` runs it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_assistant import replies
from edge_assistant.answers import NO_PHRASES, YES_PHRASES
from edge_assistant.config import line_of_setting
from edge_assistant.errors import ConfigError
from edge_assistant.events import ActionResult
from edge_assistant.handlers.base import Call, Command, Handler, Outcome
from edge_assistant.handlers.log import LogHandler
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.dialogue import Confirmation, Dialogue
from edge_assistant.nlu.multi import TARGET_SLOTS
from edge_assistant.nlu.resolve import Unresolved, finalize_slots
from edge_assistant.policy import Policy, PolicySettings, policy_problems
from edge_assistant.replies import RepliesSettings

if TYPE_CHECKING:
    from edge_assistant.config import Settings
    from edge_assistant.events import IntentResult

__all__ = ["Dispatcher", "Policy", "build_dispatcher", "is_no", "is_yes"]

log = logging.getLogger(__name__)

_YES = YES_PHRASES
_NO = NO_PHRASES


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def is_yes(text: str) -> bool:
    """True for "yes", "yes please", "ok do it" ...: a confirmation."""
    words = _words(text)
    return words in _YES or words.split(" ")[0] in {"yes", "yeah", "yep", "yup", "sure", "ok", "okay"}


def is_no(text: str) -> bool:
    """True for "no", "cancel", "never mind" ...: a refusal."""
    words = _words(text)
    return words in _NO or words.split(" ")[0] in {"no", "nope", "cancel", "don't"}


# A whole answer to a question and no command of its own: "yes", "no thanks", "ok".
_BARE_ANSWERS = _YES | _NO | {f"{w} please" for w in _YES} | {f"{w} thanks" for w in _NO}


def _bare_answer(text: str) -> bool:
    """Whether ``text`` is only a yes or a no (``_BARE_ANSWERS``)."""
    return _words(text) in _BARE_ANSWERS


def _result(handler: str, ok: bool, reply: str, status: Any, error: str | None = None) -> ActionResult:
    return ActionResult(handler=handler, ok=ok, reply=reply, error=error, status=status)


def _checked(spec: IntentSpec, home: Home, slots: dict[str, Any]) -> dict[str, Any]:
    """The slots passed through the schema; a list of names or places ("the porch light and the
    patio light") is checked name by name."""
    single = {k: v for k, v in slots.items() if not isinstance(v, list)}
    checked = finalize_slots(spec, home, single)
    for name, values in slots.items():
        if isinstance(values, list):
            if name not in TARGET_SLOTS or not values:
                raise Unresolved(f"{name} takes one value, not {values}")
            checked[name] = [finalize_slots(spec, home, {**single, name: v})[name] for v in values]
    return checked


class Dispatcher:
    """Implements ``events.Dispatcher``: routes, enforces the policy, runs handlers with timeouts."""

    def __init__(
        self,
        handlers: Sequence[Handler],
        home: Home | None = None,
        catalog: Catalog | None = None,
        policy: PolicySettings | None = None,
        *,
        timeouts: Mapping[str, float] | None = None,
        replies_settings: RepliesSettings | None = None,
        dry_run_log: LogHandler | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.handlers = list(handlers)
        self.home = home
        self.catalog = catalog
        self.policy_settings = policy or PolicySettings()
        self.policy = Policy(self.policy_settings, catalog, home)
        self._timeouts = dict(timeouts or {})
        self._replies = replies_settings or RepliesSettings()
        self._dry_log = dry_run_log
        self._clock = clock
        # The conversation of callers that pass none (one terminal, one test).
        self.dialogue = Dialogue()
        self._entity_ids = {e.id for e in home.entities} if home is not None else None

    @property
    def pending(self) -> Command | None:
        """The command of the default conversation waiting for a yes, if any (expired or not)."""
        held = self.dialogue.confirmation
        return held.command if held else None

    async def dispatch(
        self, result: IntentResult, utterance_id: str, dialogue: Dialogue | None = None
    ) -> list[ActionResult]:
        """Act on one parse in ``dialogue`` (default: the dispatcher's own); never raises for a
        handler fault (it is in the results)."""
        dialogue = dialogue if dialogue is not None else self.dialogue
        answered = self._answer_pending(result.text, dialogue)
        if isinstance(answered, tuple):
            return [action for command in answered for action in await self._execute(command)]
        if answered is not None:
            return answered
        if result.intent is None:
            if _bare_answer(result.text):  # nothing asked of this conversation, or asked too long ago
                return [_result("dispatcher", False, "There is nothing to confirm.", "rejected", "nothing to confirm")]
            reply = replies.rejected_reply(result.reason)
            return [_result("dispatcher", False, reply, "rejected", result.reason)] if reply else []
        command, problem = self._command(result, utterance_id)
        if command is None:
            return [_result("dispatcher", False, replies.rejected_reply(problem), "rejected", problem)]
        decision, rule = self.policy.decide(command)
        if decision == "deny":
            reply = f"Sorry, I am not allowed to {replies.phrase(command, self.home)[0]}."
            return [_result("policy", False, reply, "denied", f"denied by the policy ({rule})")]
        if decision == "confirm":
            dialogue.confirmation = Confirmation(command, self._clock() + self.policy_settings.confirm_timeout_s)
            log.info("utterance %s: %s needs confirmation (%s)", utterance_id, command.intent, rule)
            return [_result("policy", True, replies.confirm_prompt(command, self.home), "confirm")]
        return await self._execute(command)

    def _answer_pending(self, text: str, dialogue: Dialogue) -> tuple[Command, ...] | list[ActionResult] | None:
        """Pending commands: run them on yes, drop them on no; other text drops them and goes on."""
        pending, dialogue.confirmation = dialogue.confirmation, None
        if pending is None:
            return None
        yes, no = is_yes(text), is_no(text)
        if self._clock() > pending.deadline:
            if yes or no:
                reply = "Too late, I did nothing. Please say the command again."
                return [_result("policy", False, reply, "expired", "the confirmation came after the timeout")]
            return None
        if yes:
            return pending.commands
        if no:
            return [_result("policy", True, "OK, I did nothing.", "cancelled")]
        log.info("confirmation of %s dropped: the next utterance was another command", pending.command.intent)
        return None

    def _command(self, result: IntentResult, utterance_id: str) -> tuple[Command | None, str | None]:
        """Check the parse again (the model path obeys the same schema) and build the command."""
        assert result.intent is not None
        slots = dict(result.slots)
        if self.catalog is not None and self.home is not None:
            spec = self.catalog.intents.get(result.intent)
            if spec is None:
                return None, f"the intent {result.intent} is not in the catalog"
            try:
                checked = _checked(spec, self.home, slots)
            except Unresolved as exc:
                return None, str(exc)
            if checked != slots:
                return None, f"slots {slots} do not pass the schema of {result.intent}"
        unknown = [t for t in result.targets if self._entity_ids is not None and t not in self._entity_ids]
        if unknown:
            return None, f"there is no device called '{unknown[0]}'"
        cmd = Command(
            utterance_id, result.intent, slots, tuple(result.targets), result.text, result.confidence, result.source
        )
        return cmd, None

    async def _execute(self, command: Command) -> list[ActionResult]:
        calls = [(h, key) for h in self.handlers for key in h.keys(command)]
        if not calls:
            error = f"no handler is configured for {command.intent}"
            return [_result("dispatcher", False, replies.failed_reply(command, self.home), "failed", error)]
        if self.policy_settings.dry_run:
            return [self._dry_run(h, self._call(command, key)) for h, key in calls]
        return list(await asyncio.gather(*(self._run(h, self._call(command, key)) for h, key in calls)))

    def _call(self, command: Command, entity: str | None) -> Call:
        return Call(command, entity, replies.done_reply(command, self.home, entity))

    def _dry_run(self, handler: Handler, call: Call) -> ActionResult:
        reply = replies.dry_run_reply(call.command, self.home, call.entity)
        if self._dry_log is not None:
            self._dry_log.write(Call(call.command, call.entity, reply), dry_run=True)
        return ActionResult(handler=handler.name, entity=call.entity, ok=True, reply=reply, status="dry_run")

    async def _run(self, handler: Handler, call: Call) -> ActionResult:
        timeout = self._timeouts.get(handler.name, 5.0)
        start = time.perf_counter()
        try:
            outcome = await asyncio.wait_for(handler.handle(call), timeout)
        except asyncio.TimeoutError:
            outcome = Outcome(ok=False, error=f"{handler.name} gave no answer within {timeout:g} s")
        except Exception as exc:  # a stage boundary: one bad handler must not stop the others
            log.exception("utterance %s: handler %s raised", call.command.utterance_id, handler.name)
            outcome = Outcome(ok=False, error=f"{handler.name} raised {type(exc).__name__}: {exc}")
        if not isinstance(outcome, Outcome):  # a third-party handler's bug, reported like a fault
            outcome = Outcome(ok=False, error=f"{handler.name} returned {type(outcome).__name__}, not an Outcome")
        latency = round((time.perf_counter() - start) * 1000, 3)
        if outcome.ok:
            reply = outcome.reply if outcome.reply is not None else call.reply
        else:
            error = outcome.error if self._replies.explain_errors else None
            reply = replies.failed_reply(call.command, self.home, call.entity, error)
            log.warning("utterance %s: %s failed: %s", call.command.utterance_id, handler.name, outcome.error)
        return ActionResult(
            handler=handler.name,
            entity=call.entity,
            ok=outcome.ok,
            reply=reply,
            error=outcome.error,
            latency_ms=latency,
            status="done" if outcome.ok else "failed",
        )

    async def aclose(self) -> None:
        """Close every handler (each one's queue is delivered or failed first)."""
        for handler in self.handlers:
            try:
                await handler.aclose()
            except Exception:  # closing one must not leave the others open
                log.exception("closing handler %s failed", handler.name)
        if self._dry_log is not None:
            await self._dry_log.aclose()


def build_dispatcher(
    settings: Settings,
    home: Home,
    catalog: Catalog | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    config_path: str | Path | None = None,
    **inject: Any,
) -> Dispatcher:
    """The real dispatcher from config: the configured handlers (``log`` when none), policy, replies.

    ``inject`` passes test doubles of hardware to handler constructors (``pin_factory`` for gpio).
    A handler whose backend is not installed raises ``BackendMissingError`` naming the extra; a
    ``[policy]`` rule that names nothing (a typo: it would never apply) is a ``ConfigError``
    naming ``config_path`` and the field.
    """
    from edge_assistant.handlers.registry import build_handlers
    from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog

    if catalog is None:
        catalog = load_catalog([BUILTIN_CATALOG_DIR, *settings.nlu.catalog])
    problems = policy_problems(settings.policy, catalog, home)
    if problems:
        field, why = problems[0]
        line = line_of_setting(config_path, tuple(field.split(".", 2))) if config_path else None
        path = str(config_path) if config_path else None
        raise ConfigError(f"{why}: this rule would never apply", path=path, line=line, field=field)
    handlers, timeouts = build_handlers(settings.handlers, home, **inject)
    dry_log = LogHandler(settings.handlers.log) if settings.policy.dry_run else None
    return Dispatcher(
        handlers,
        home,
        catalog,
        settings.policy,
        timeouts=timeouts,
        replies_settings=settings.replies,
        dry_run_log=dry_log,
        clock=clock,
    )
