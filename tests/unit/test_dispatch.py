"""The dispatcher: routing, the safety policy, confirmation, dry run, faults, validation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.config import Settings
from edge_assistant.dispatch import Dispatcher, build_dispatcher, is_no, is_yes
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.handlers.base import Call, Command, Outcome, entity_keys, intent_keys
from edge_assistant.handlers.log import LogHandler
from edge_assistant.handlers.settings import LogSettings, Route
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import Catalog, load_catalog
from edge_assistant.policy import PolicySettings

pytestmark = pytest.mark.unit


class Recorder:
    """A handler that records its calls; ``behaviour`` "ok", "fail", "raise" or "hang"."""

    def __init__(self, name: str = "rec", behaviour: str = "ok", route: Route | None = None, per_entity: bool = False):
        self.name = name
        self.behaviour = behaviour
        self.route = route or Route()
        self.per_entity = per_entity
        self.calls: list[Call] = []

    def keys(self, command: Command) -> list[str | None]:
        """Per entity or per intent, filtered by the route."""
        if self.per_entity:
            return list(entity_keys(self.route, command))
        return intent_keys(self.route, command)

    async def handle(self, call: Call) -> Outcome:
        """Record, then behave."""
        self.calls.append(call)
        if self.behaviour == "hang":
            await asyncio.sleep(3600)
        if self.behaviour == "raise":
            raise RuntimeError("relay on fire")
        return Outcome(ok=self.behaviour == "ok", error=None if self.behaviour == "ok" else "it failed")

    async def aclose(self) -> None:
        """Nothing held."""


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The built-in catalog."""
    return load_catalog()


def parse(text: str, intent: str | None, targets: Sequence[str] = (), **slots: Any) -> IntentResult:
    """A parse as the parser would give it."""
    return IntentResult(text=text, intent=intent, slots=slots, targets=list(targets), confidence=1.0, source="template")


OFF = parse("turn off the kitchen lights", "HassTurnOff", ["light.kitchen"], name="Kitchen Light")
UNLOCK = parse("unlock the front door", "HassTurnOff", ["lock.front_door"], name="Front Door")
GARAGE = parse("open the garage door", "HassTurnOn", ["cover.garage_door"], name="Garage Door")
STUDY = parse("lights off in the study", "HassTurnOff", ["light.study_lamp", "cover.study_blinds"], area="Study")


def make(home: Home, catalog: Catalog, *handlers: Any, **policy: Any) -> tuple[Dispatcher, Clock]:
    """A dispatcher over ``handlers`` with a settable clock."""
    clock = Clock()
    timeouts = {h.name: 0.3 for h in handlers}
    d = Dispatcher(list(handlers), home, catalog, PolicySettings(**policy), timeouts=timeouts, clock=clock)
    return d, clock


def go(dispatcher: Dispatcher, *results: IntentResult) -> list[list[ActionResult]]:
    """Dispatch in turn."""

    async def run() -> list[list[ActionResult]]:
        return [await dispatcher.dispatch(r, f"u{i}") for i, r in enumerate(results)]

    return asyncio.run(run())


def test_allowed_command_reaches_handler_with_reply(home: Home, catalog: Catalog) -> None:
    """A light command is acted on at once and the reply says what was done."""
    rec = Recorder()
    [actions] = go(make(home, catalog, rec)[0], OFF)
    assert [c.command.intent for c in rec.calls] == ["HassTurnOff"]
    assert actions[0].ok and actions[0].status == "done" and actions[0].reply == "Turned off the kitchen light"


def test_routing_by_domain_and_per_entity(home: Home, catalog: Catalog) -> None:
    """A handler routed to covers gets only the blinds; a per-intent handler gets one call."""
    covers = Recorder("covers", route=Route(domains=("cover",)), per_entity=True)
    everything = Recorder("all")
    [actions] = go(make(home, catalog, covers, everything)[0], STUDY)
    assert [c.entity for c in covers.calls] == ["cover.study_blinds"]
    assert [c.entity for c in everything.calls] == [None]
    assert {(a.handler, a.reply) for a in actions} == {
        ("covers", "Closed the study blinds"),
        ("all", "Turned off the devices in the study"),
    }


def test_route_by_intent_skips_others(home: Home, catalog: Catalog) -> None:
    """A handler routed to HassTurnOn is not called for HassTurnOff: nothing handles it."""
    rec = Recorder(route=Route(intents=("HassTurnOn",)))
    [actions] = go(make(home, catalog, rec)[0], OFF)
    assert rec.calls == [] and not actions[0].ok and "no handler" in (actions[0].error or "")


MODEL_UNLOCK = UNLOCK.model_copy(update={"source": "model", "confidence": 0.61, "text": "get the front door open"})


@pytest.mark.parametrize("command", [UNLOCK, GARAGE, MODEL_UNLOCK])
def test_locks_and_garage_doors_ask_first(home: Home, catalog: Catalog, command: IntentResult) -> None:
    """A lock or a garage door is not acted on: the assistant asks."""
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    [actions] = go(d, command)
    assert rec.calls == [] and actions[0].status == "confirm" and actions[0].reply.startswith("Are you sure")


def test_yes_in_time_acts(home: Home, catalog: Catalog) -> None:
    """ "yes please" within the timeout runs the pending command."""
    rec = Recorder()
    d, clock = make(home, catalog, rec)
    go(d, UNLOCK)
    clock.now += 5
    [actions] = go(d, parse("yes please", None))
    assert [c.entity for c in rec.calls] == [None] and actions[0].reply == "Unlocked the front door"


PORCH = parse("turn on the porch light", "HassTurnOn", ["light.porch"], name="Porch Light")
LOCK = parse("okay lock it instead", "HassTurnOn", ["lock.front_door"], name="Front Door")


@pytest.mark.parametrize("answer", ["yes, unlock it", "yes please unlock the front door", "ok go ahead and do it"])
def test_a_yes_may_repeat_what_it_confirms(home: Home, catalog: Catalog, answer: str) -> None:
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    [_, actions] = go(d, UNLOCK, parse(answer, None))
    assert [c.command.intent for c in rec.calls] == ["HassTurnOff"] and actions[0].reply == "Unlocked the front door"


@pytest.mark.parametrize(
    ("answer", "reply", "intents"),
    [
        # A yes that says more is no yes: with no command of its own it asks again; nothing runs.
        (parse("yes to the front door only", None), "Please say yes or no. Are you sure", []),
        (parse("sure don't unlock it", None), "Please say yes or no. Are you sure", []),
        # A no, or a yes joined with "and", keeps the command said after it.
        (PORCH.model_copy(update={"text": "no, turn on the porch light"}), "OK, I did nothing", ["HassTurnOn"]),
        (
            PORCH.model_copy(update={"text": "yes and turn on the porch light"}),
            "Unlocked",
            ["HassTurnOff", "HassTurnOn"],
        ),
    ],
)
def test_an_answer_that_says_more_than_yes(
    home: Home, catalog: Catalog, answer: IntentResult, reply: str, intents: list[str]
) -> None:
    """ "Okay, lock it instead" unlocked the front door, "yes to the front door only" ran both
    held commands, and the porch light of "no, turn on the porch light" was lost."""
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    [_, actions] = go(d, UNLOCK, answer)
    assert [c.command.intent for c in rec.calls] == intents
    assert actions[0].reply.startswith(reply), actions


def test_okay_lock_it_instead_does_not_unlock(home: Home, catalog: Catalog) -> None:
    """A yes with a command of its own drops the held one, says so, and the new command goes on
    (under the policy: locking asks too)."""
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    [_, actions] = go(d, UNLOCK, LOCK)
    assert rec.calls == []
    assert [a.reply for a in actions] == [
        "OK, I did not unlock the front door.",
        "Are you sure you want to lock the front door?",
    ]


def test_asked_again_a_plain_yes_then_confirms(home: Home, catalog: Catalog) -> None:
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    go(d, UNLOCK, parse("yes to the front door only", None))
    [actions] = go(d, parse("yes", None))
    assert [c.command.intent for c in rec.calls] == ["HassTurnOff"] and actions[0].reply == "Unlocked the front door"


def test_yes_too_late_does_nothing(home: Home, catalog: Catalog) -> None:
    """A yes after confirm_timeout_s runs nothing and says so."""
    rec = Recorder()
    d, clock = make(home, catalog, rec)
    go(d, UNLOCK)
    clock.now += 11
    [actions] = go(d, parse("yes", None))
    assert rec.calls == [] and actions[0].status == "expired"


@pytest.mark.parametrize(
    ("said", "reply"),
    [(yes, "There is nothing to confirm.") for yes in ("yes", "yes please", "ok")]
    + [(no, "OK.") for no in ("no", "no thanks", "cancel")],
)
def test_an_answer_with_nothing_asked_says_so(home: Home, catalog: Catalog, said: str, reply: str) -> None:
    """ "yes" when nothing waits (a Home Assistant whose wyoming library drops the conversation id
    sends each sentence as a new conversation) is answered as such, not "Sorry, I didn't understand";
    "cancel" after a question the parser dropped ("What brightness?") is "OK.", not "There is
    nothing to confirm"."""
    rec = Recorder()
    [actions] = go(make(home, catalog, rec)[0], parse(said, None))
    assert rec.calls == [] and actions[0].reply == reply


def test_no_cancels(home: Home, catalog: Catalog) -> None:
    """ "no" drops the pending command."""
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    go(d, GARAGE)
    [actions] = go(d, parse("no", None))
    assert rec.calls == [] and actions[0].status == "cancelled" and d.pending is None


def test_another_command_drops_the_question(home: Home, catalog: Catalog) -> None:
    """A new command instead of an answer runs itself; a later yes does not unlock."""
    rec = Recorder()
    d, _ = make(home, catalog, rec)
    _, off, yes = go(d, UNLOCK, OFF, parse("yes", None))
    assert [c.command.intent for c in rec.calls] == ["HassTurnOff"] and rec.calls[0].command.targets == (
        "light.kitchen",
    )
    assert off[0].ok and yes[0].status == "rejected"


def test_policy_rules_deny_and_override(home: Home, catalog: Catalog) -> None:
    """deny by domain wins; an entity rule overrides the lock default; read-only intents pass."""
    rec = Recorder()
    d, _ = make(home, catalog, rec, domains={"cover": "deny"}, entities={"lock.front_door": "allow"})
    denied, unlocked = go(d, GARAGE, UNLOCK)
    assert denied[0].status == "denied" and denied[0].reply == "Sorry, I am not allowed to open the garage door."
    assert unlocked[0].ok and len(rec.calls) == 1
    d2, _ = make(home, catalog, rec)
    [state] = go(d2, parse("is the front door locked", "HassGetState", ["lock.front_door"], name="Front Door"))
    assert state[0].status == "done"


def test_intent_rule_confirms_everything_of_that_intent(home: Home, catalog: Catalog) -> None:
    """intents = {HassTurnOff = "confirm"} makes even a light ask."""
    d, _ = make(home, catalog, Recorder(), intents={"HassTurnOff": "confirm"})
    [actions] = go(d, OFF)
    assert actions[0].reply == "Are you sure you want to turn off the kitchen light?"


def test_dry_run_logs_and_does_not_act(home: Home, catalog: Catalog, tmp_path: Path) -> None:
    """In dry-run mode no handler is called; each planned call is a JSON line marked dry_run."""
    rec = Recorder()
    path = tmp_path / "dry.jsonl"
    d = Dispatcher(
        [rec], home, catalog, PolicySettings(dry_run=True), dry_run_log=LogHandler(LogSettings(path=str(path)))
    )
    [actions] = go(d, OFF)
    asyncio.run(d.aclose())
    line = json.loads(path.read_text())
    assert rec.calls == [] and actions[0].status == "dry_run"
    assert line["dry_run"] is True and line["intent"] == "HassTurnOff" and line["targets"] == ["light.kitchen"]


def test_hung_and_raising_handlers_do_not_hold_up_others(home: Home, catalog: Catalog) -> None:
    """A hung handler times out and a raising one is reported; the good one still acts."""
    good, hung, bad = Recorder("good"), Recorder("hung", "hang"), Recorder("bad", "raise")
    d, _ = make(home, catalog, good, hung, bad)
    [actions] = go(d, OFF)
    by = {a.handler: a for a in actions}
    assert by["good"].ok and not by["hung"].ok and not by["bad"].ok
    assert by["hung"].error == "hung gave no answer within 0.3 s"
    assert by["bad"].error == "bad raised RuntimeError: relay on fire"
    assert by["bad"].reply == "Sorry, I could not turn off the kitchen light"
    [again] = go(d, OFF)
    assert again[0].handler == "good" and again[0].ok


def test_rejected_parse_only_replies(home: Home, catalog: Catalog) -> None:
    """A rejected parse calls no handler; the reply says why."""
    rec = Recorder()
    [actions] = go(make(home, catalog, rec)[0], parse("turn on the dishwasher", None))
    assert rec.calls == [] and actions[0].status == "rejected"
    rejected = IntentResult(text="turn on the dishwasher", reason="there is no device called 'dishwasher'")
    [actions] = go(make(home, catalog, rec)[0], rejected)
    assert actions[0].reply == "Sorry, there is no dishwasher."
    assert go(make(home, catalog, rec)[0], IntentResult(text="", reason="empty text")) == [[]]


@pytest.mark.parametrize(
    "bad",
    [
        parse("x", "HassLightSet", ["light.kitchen"], name="Kitchen Light", brightness=500),
        parse("x", "HassLightSet", ["light.kitchen"], name="Kitchen Light", color="ultraviolet"),
        parse("x", "HassTurnOff", ["lock.back_door"], name="Front Door"),
        parse("x", "HassSelfDestruct", []),
    ],
)
def test_values_failing_validation_never_reach_a_handler(home: Home, catalog: Catalog, bad: IntentResult) -> None:
    """Out of range, unknown enum value, unknown entity, unknown intent: rejected, no call."""
    rec = Recorder()
    [actions] = go(make(home, catalog, rec)[0], bad)
    assert rec.calls == [] and actions[0].status == "rejected" and actions[0].error


def test_yes_and_no_words() -> None:
    """Confirmation words are recognised; a command is neither."""
    assert is_yes("Yes, please!") and is_yes("ok do it") and not is_yes("turn off the lights")
    assert is_no("No.") and is_no("never mind") and not is_no("now")


def test_no_handler_configured_means_log(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    """With no [handlers] at all, the log handler writes a JSON line to stderr."""
    d = build_dispatcher(Settings(), home)
    [actions] = go(d, OFF)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert actions[0].handler == "log" and actions[0].ok
    assert line["intent"] == "HassTurnOff" and line["reply"] == "Turned off the kitchen light"


def test_handler_returning_garbage_is_a_failed_action(home: Home, catalog: Catalog) -> None:
    """A (third-party) handler that returns something else than an Outcome is reported, not fatal."""

    class Sloppy(Recorder):
        async def handle(self, call: Call) -> Outcome:
            return "done"  # type: ignore[return-value]

    [actions] = go(make(home, catalog, Sloppy("sloppy"))[0], OFF)
    assert not actions[0].ok and actions[0].error == "sloppy returned str, not an Outcome"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_fails_the_call_and_closing_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """/dev/full refuses every write: the call fails with the reason, and closing the handler says
    once that lines stay unwritten instead of raising."""
    handler = LogHandler(LogSettings(path="/dev/full"))
    call = Call(Command("u1", "HassTurnOn", targets=("light.kitchen",)))
    outcome = asyncio.run(handler.handle(call))
    assert not outcome.ok and "No space left" in (outcome.error or "")
    asyncio.run(handler.aclose())
    assert "closed with lines unwritten" in caplog.text
    asyncio.run(handler.aclose())  # a second close does nothing
