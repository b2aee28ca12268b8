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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_assistant import replies
from edge_assistant.answers import NO_PHRASES, YES_PHRASES, bare_answer, words_of
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


_YES_FIRST = frozenset(("yes", "yeah", "yep", "yup", "sure", "ok", "okay"))
_NO_FIRST = frozenset(("no", "nope", "cancel", "don't"))
# Words a yes may carry and still say nothing else ("yes please, go ahead and do it").
_YES_FILLERS = (
    _YES_FIRST
    | frozenset(("please", "do", "it", "go", "ahead", "and", "thanks", "thank", "you", "that", "confirm", "confirmed"))
    | frozenset(("correct", "absolutely", "of", "course", "right", "fine", "now", "them", "both", "all"))
)
# Words that join a yes to a command of its own ("yes, and turn on the porch light").
_AND = frozenset(("and", "then", "also"))


def is_yes(text: str, held: Iterable[str] = ()) -> bool:
    """True for "yes", "yes please", "ok do it" ...: a confirmation, and nothing else.

    ``held``: what is being confirmed ("unlock the front door"), whose words a yes may repeat
    ("yes, unlock it"). "Okay, lock it instead", "sure, don't unlock it" or "yes to the front door
    only" say more than yes: they are no confirmation.
    """
    words = words_of(text)
    said = words.split(" ")
    allowed = _YES_FILLERS | {w for phrase in held for w in words_of(phrase).split(" ")}
    return words in _YES or (said[0] in _YES_FIRST and set(said) <= allowed)


def _yes_and(text: str) -> bool:
    """Whether ``text`` is a yes joined to more ("yes, and turn on the porch light")."""
    said = words_of(text).split(" ")
    return len(said) > 2 and said[0] in _YES_FIRST and said[1] in _AND


def is_no(text: str) -> bool:
    """True for "no", "cancel", "never mind" ...: a refusal, maybe followed by a command of its
    own ("no, turn on the porch light")."""
    words = words_of(text)
    return words in _NO or words.split(" ")[0] in _NO_FIRST


def _starts_yes(text: str) -> bool:
    return words_of(text).split(" ")[0] in _YES_FIRST


def _and(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return f"{', '.join(items[:-1])} and {items[-1]}" if len(items) > 1 else "".join(items)


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
        pending = dialogue.confirmation
        if dialogue.answered and pending is not None and self._clock() <= pending.deadline:
            return await self._beside(pending, result, utterance_id, dialogue)
        run, said, go_on = self._answer_pending(result, dialogue)
        done = said + [action for command in run for action in await self._execute(command)]
        if not go_on:
            return done + (self._ask_again(dialogue) if run else [])
        return done + await self._dispatch_new(result, utterance_id, dialogue)

    async def _beside(
        self, pending: Confirmation, result: IntentResult, utterance_id: str, dialogue: Dialogue
    ) -> list[ActionResult]:
        """The answer to a question asked beside a confirmation ("unlock the front door and dim
        the lamp", then "the floor lamp"): it acts, and the confirmation still waits, asked again
        (with the answer's own, when the answer needs one too)."""
        dialogue.confirmation = None
        done = await self._dispatch_new(result, utterance_id, dialogue)
        asked = dialogue.confirmation
        commands = (*pending.commands, *(asked.commands if asked is not None else ()))
        deadline = self._clock() + self.policy_settings.confirm_timeout_s
        dialogue.confirmation = Confirmation(commands[0], deadline, commands[1:])
        held = [replies.phrase(c, self.home)[0] for c in commands]
        again = _result("policy", True, f"Are you sure you want to {_and(held)}?", "confirm")
        return [a for a in done if a.status != "confirm"] + [again]

    @staticmethod
    def _ask_again(dialogue: Dialogue) -> list[ActionResult]:
        """The question asked beside a confirmation that a yes has just answered, asked again."""
        question = dialogue.question
        if question is None or not question.asked or time.monotonic() > question.deadline:
            return []
        return [_result("dispatcher", True, replies.rejected_reply(question.asked), "confirm")]

    async def _dispatch_new(self, result: IntentResult, utterance_id: str, dialogue: Dialogue) -> list[ActionResult]:
        """``dispatch`` of an utterance that answers no confirmation."""
        if result.intent is None:
            if bare_answer(result.text):  # nothing asked of this conversation, or asked too long ago
                if is_no(result.text):  # "cancel" after a question ("What brightness?"): dropped
                    return [_result("dispatcher", True, "OK.", "cancelled")]
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

    def _answer_pending(
        self, result: IntentResult, dialogue: Dialogue
    ) -> tuple[tuple[Command, ...], list[ActionResult], bool]:
        """The answer to a held confirmation: (commands it runs, what is said, whether the
        utterance goes on as a command of its own).

        A yes runs them ("yes, and turn on the porch light": then that too); a no drops them ("no,
        turn on the porch light": then that); a yes that says more ("okay, lock it instead")
        drops them and says so, and its command goes on; a yes that says more and no command
        asks again. Any other utterance drops them and goes on.
        """
        text, command = result.text, result.intent is not None or bool(result.commands)
        pending, dialogue.confirmation = dialogue.confirmation, None
        if pending is None:
            return (), [], True
        held = [replies.phrase(c, self.home)[0] for c in pending.commands]
        yes, no = is_yes(text, held), is_no(text)
        if self._clock() > pending.deadline:
            if yes or no:
                reply = "Too late, I did nothing. Please say the command again."
                late = _result("policy", False, reply, "expired", "the confirmation came after the timeout")
                return (), [late], False
            return (), [], True
        if yes:
            return pending.commands, [], False
        if _yes_and(text) and command:
            return pending.commands, [], True
        if no:
            return (), [_result("policy", True, "OK, I did nothing.", "cancelled")], command
        if _starts_yes(text):
            if not command:
                dialogue.confirmation = pending  # "yes to the front door only": asked again
                reply = f"Please say yes or no. Are you sure you want to {_and(held)}?"
                return (), [_result("policy", True, reply, "confirm")], False
            reply = f"OK, I did not {_and(held)}."
            return (), [_result("policy", True, reply, "cancelled")], True
        log.info("confirmation of %s dropped: the next utterance was another command", pending.command.intent)
        return (), [], True

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
