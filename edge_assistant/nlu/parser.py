"""Text -> validated intent: the template fast path, then the model path."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from edge_assistant.answers import bare_answer
from edge_assistant.events import IntentResult
from edge_assistant.home import Entity, Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.dialogue import (
    ANSWER_FILLERS,
    ANY_DEVICE,
    Dialogue,
    Question,
    answer_question,
    next_colour,
    says_more,
    wants_another_colour,
)
from edge_assistant.nlu.extract import extract_slots
from edge_assistant.nlu.followup import ACTIONS, Recent, again, continued, referent_text, with_referent
from edge_assistant.nlu.multi import Part, Splitter, combine, several, spoken
from edge_assistant.nlu.names import class_domain, measure_of, which
from edge_assistant.nlu.normalize import normalize_text, numbers_in
from edge_assistant.nlu.prompt import (
    NONE_LABEL,
    TUNED_FORMAT,
    TUNED_FORMATS,
    build_prefix,
    build_tuned_prefix,
    continuation,
)
from edge_assistant.nlu.resolve import Ambiguous, MissingValue, Unfit, Unresolved, finalize_slots, resolve_targets
from edge_assistant.nlu.targets import other_kind
from edge_assistant.nlu.templates import TemplateMatch, TemplateMatcher
from edge_assistant.nlu.timeexpr import clock_command, only_timer_words, repeats
from edge_assistant.nlu.words import domain_table, number_table

__all__ = ["ChoiceModel", "Parser", "ParserSettings"]

_FILLERS = ANSWER_FILLERS
# Slots that name or place a device; words that ask for every one.
_NAMING = frozenset(("name", "area", "floor", "domain", "device_class"))
_EVERY = frozenset(("all", "every", "everything", "everywhere", "whole", "entire", "house"))
# Words that take every device of a name that several rooms have ("both ceiling lights").
_BOTH = _EVERY | {"both", "each"}
# Words that take every room ("turn off everything in the whole house"); "everything" alone asks.
_WHOLE_HOME = frozenset(("everywhere", "every", "whole", "entire", "house", "home", "flat", "apartment", "rooms"))


class ChoiceModel(Protocol):
    """What the parser needs of a language model (``LlamaModel`` or a test fake)."""

    def set_prefix(self, text: str) -> int:
        """Evaluate and cache the static prompt prefix; return its length in tokens."""

    def choose(self, continuation: str, options: list[str]) -> Any:
        """Return an object with ``index`` and ``probability`` of the option picked."""

    def distribution(self, continuation: str, options: list[str]) -> list[float]:
        """The probability of every option (slower than ``choose``: used for a second pick)."""


@dataclass(frozen=True)
class ParserSettings:
    """Tuning of the parser (from the ``[nlu]`` config section)."""

    min_confidence: float = 0.3
    max_chars: int = 400
    area: str | None = None
    use_templates: bool = True
    # Off only in benchmarks that score the parse alone, as Home Assistant's test harness does.
    resolve_targets: bool = True
    # True when the model carries an adapter from ``edge-assistant tune``: it gets the short tuned prompt.
    tuned_prompt: bool = False
    # Seconds in which an answer to "What brightness or colour?" completes the command; 0 = off.
    follow_up_s: float = 0.0


_DURATION_SLOTS = ("hours", "minutes", "seconds")
_TIMER = "HassStartTimer"  # the intent a delayed command rides on, as in Home Assistant


@dataclass(frozen=True)
class _Retry:
    """The model's first pick failed in a way that a second pick may mend."""

    error: MissingValue | Unfit
    intent: str
    raw: dict[str, Any]
    confidence: float


# The verbs that say which way a lock or a cover goes, as Home Assistant's intents name it.
_WAYS = ("HassTurnOn", "HassTurnOff")
_VERBS: dict[str, dict[str, frozenset[str]]] = {
    "lock": {"HassTurnOn": frozenset({"lock"}), "HassTurnOff": frozenset({"unlock"})},
    "cover": {"HassTurnOn": frozenset({"open"}), "HassTurnOff": frozenset({"close", "shut"})},
    # "Stop the vacuum" is no start: its way off is back to its dock (Home Assistant's turn_off).
    "vacuum": {
        "HassTurnOn": frozenset({"start", "clean", "cleaning", "resume"}),
        "HassTurnOff": frozenset({"stop", "halt", "pause", "dock", "return", "home", "base"}),
    },
}
# A lock said to be opened or closed, as its door is: "open the front door" is no locking, and
# "close the front door" no unlocking. Not a way of its own kind (``_one_by_head``): "open the
# door" beside a garage door still means the garage door.
_DOOR_WAYS: dict[str, dict[str, frozenset[str]]] = {
    "lock": {"HassTurnOn": frozenset({"close", "shut"}), "HassTurnOff": frozenset({"open"})},
}
# Domains that are only read: a command of no domain of its own never names one by a word of its name.
_READ_ONLY = frozenset(("sensor", "binary_sensor"))
# "Turn the study", "switch the fan": a verb that needs its way said, said without one.
_WAYLESS = frozenset(("turn", "switch"))
_WAY_WORDS = frozenset(("on", "off", "up", "down", "out", "back", "open", "close", "shut", "lock", "unlock"))


@dataclass
class _Call:
    """What one ``parse`` call reads and writes of its conversation."""

    colours: dict[str, str]
    # Set when the result asks for a missing value: the command the answer will complete.
    question: Question | None = None
    memory: dict[str, str] = field(default_factory=dict)
    # The model's least confidence for this utterance, above the settings' (heard speech).
    min_confidence: float = 0.0
    # Numbers said that the speech engine's other hypotheses heard otherwise: asked for, not used.
    unsure: frozenset[float] = frozenset()
    # The room the utterance was said in, when the conversation knows it (a satellite's room).
    area: str | None = None
    # The templates' match of each text tried in this call (a part is tried twice: see _prefetch).
    matches: dict[tuple[str, str | None], TemplateMatch | None] = field(default_factory=dict)
    # The model's choice for continuations already evaluated together (several commands).
    chosen: dict[str, Any] = field(default_factory=dict)


def _sure(raw: dict[str, Any], unsure: frozenset[float]) -> dict[str, Any]:
    """``raw`` without the values that are numbers the speech engine was unsure of."""
    if not unsure:
        return raw
    return {k: v for k, v in raw.items() if _as_number(v) not in unsure}


def _one_for_a_thing(text: str, slots: dict[str, Any]) -> bool:
    """Whether a template read as the number 1 a "one" said for a thing: hassil reads "the
    kitchen one" (an answer to "which ceiling light?") as the kitchen's lights at 1%."""
    if not any(_as_number(v) == 1 for v in slots.values()):
        return False
    norm = normalize_text(text)
    return 1.0 not in numbers_in(norm) and number_table().pronoun in norm.split()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().rstrip("%"))
    except ValueError:
        return None


def _ask_which(
    text: str,
    name: str,
    slots: dict[str, Any],
    fitting: list[Entity],
    kind: str,
    confidence: float,
    call: _Call,
    source: Literal["template", "model"] = "model",
) -> IntentResult:
    """The question for the device of a command that may be any of ``fitting``; the answer ("the
    bed light", "in the office") completes ``name`` with ``slots``."""
    call.question = Question(name, slots, [e.id for e in fitting], confidence, source, missing="target")
    reason = which(fitting, kind)
    return IntentResult(text=text, source=source, confidence=confidence, reason=reason, awaiting=name)


def _said_apart(name: str, noun: str, said: set[str]) -> bool:
    """Whether every word of ``name`` but ``noun`` is among the words ``said``."""
    others = set(name.lower().split()) - {noun}
    return bool(others) and others <= said


class Parser:
    """Turns a transcript into an ``IntentResult`` for one catalog and one home.

    Stateless: the name maps, templates and the model's prompt are built once per home, and what
    a conversation remembers (a question waiting for its value, the colours it set) is passed in
    as a ``Dialogue``. One parser serves any number of conversations, one call at a time (the
    model is not thread-safe: ``Assistant`` serialises the calls).
    """

    def __init__(
        self,
        catalog: Catalog,
        home: Home,
        model: ChoiceModel | None = None,
        settings: ParserSettings | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.catalog = catalog
        self._clock = clock  # local time, for commands said for a clock time ("at 11 pm")
        self.home = home
        self.settings = settings or ParserSettings()
        self._templates = TemplateMatcher(catalog, home)
        self._splitter = Splitter(catalog, home, self._templates.first_words(), self._templates.texts())
        self._model = model
        self._names = list(catalog.intents)
        self._labels = [catalog.intents[n].label for n in self._names] + [NONE_LABEL]
        self._entities = {e.id: e for e in home.entities}
        # The words of every name of the home's devices, rooms and floors: what a follow-up may say.
        names = [
            *(n for e in home.entities for n in e.names),
            *(n for a in home.areas for n in (a.name, *a.aliases)),
            *(n for f in home.floors for n in (f.name, *f.aliases)),
        ]
        self._home_words = frozenset(w for n in names for w in re.findall(r"[a-z0-9']+", n.lower()))
        # The last word of each name and alias -> the devices it ends ("door": Front Door, Garage Door).
        self._by_head: dict[str, list[Entity]] = {}
        for entity in home.entities:
            for head in dict.fromkeys(n.lower().split()[-1] for n in entity.names if n.strip()):
                self._by_head.setdefault(head, []).append(entity)
        # Generic intent -> the intents that say the same for particular domains ("turn on" a vacuum).
        self._special: dict[str, list[str]] = {}
        for name, spec in catalog.intents.items():
            if spec.specialises is not None:
                self._special.setdefault(spec.specialises, []).append(name)
        self._bare_value = _bare_value_pattern(catalog)
        if model is not None:
            model.set_prefix(self._prefix(catalog, model))

    def for_home(self, home: Home) -> Parser:
        """The same catalog, settings and model on another home: the model is shared, not loaded again."""
        return Parser(self.catalog, home, self._model, self.settings, self._clock)

    def _prefix(self, catalog: Catalog, model: ChoiceModel) -> str:
        """The few-shot prompt, or the tuned one in the format the model's adapter was trained for."""
        if not self.settings.tuned_prompt:
            return build_prefix(catalog)
        fmt = getattr(model, "prompt_format", None) or TUNED_FORMAT
        return build_tuned_prefix(catalog, with_examples=TUNED_FORMATS.get(fmt, True))

    def parse(
        self,
        text: str,
        dialogue: Dialogue | None = None,
        *,
        min_confidence: float = 0.0,
        unsure: frozenset[float] = frozenset(),
    ) -> IntentResult:
        """Parse one utterance; never raises for bad text, rejects it with a reason.

        ``dialogue`` is the conversation the utterance belongs to: its open question may be
        answered, and a new question or colour is kept in it. None parses the text on its own.
        ``min_confidence`` raises the model path's floor for this utterance (``[nlu]
        min_confidence`` stays the least): heard speech may be misheard into nonsense that the
        model still maps to an intent (``[stt] min_model_confidence``). ``unsure``: numbers of
        ``text`` that the speech engine was not sure of (``unsure_numbers``); a value that is one
        of them is asked for ("What temperature?"), never acted on.
        """
        start = time.perf_counter()
        dialogue = dialogue if dialogue is not None else Dialogue()
        call = _Call(dialogue.colours, min_confidence=min_confidence, unsure=unsure, area=dialogue.area)
        question = dialogue.take_question()
        # A whole command of the home's templates is a command of its own, never an answer: "make
        # the kitchen light blue" after "which light do you mean?" is no "the kitchen light".
        answers = question is not None and not self.own_command(text)
        result = answer_question(question, text, self.catalog, self.home) if question is not None and answers else None
        dialogue.answered = result is not None
        if result is None:
            if question is not None and dialogue.confirmation is not None and bare_answer(text):
                # The yes or no answers the confirmation asked beside it; the question is asked again.
                dialogue.question = replace(question, deadline=time.monotonic() + self.settings.follow_up_s)
            result = self._follow_up(text, dialogue.recent())
            if result is None:
                result, call = self._about_it(text, dialogue.recent(), call)
        if result.intent is not None or any(c.intent is not None for c in result.commands):
            dialogue.colours.update(call.memory)
        asker = next((c for c in result.commands if c.awaiting), None) if result.commands else result
        if asker is not None and asker.awaiting and call.question is not None and self.settings.follow_up_s > 0:
            deadline = time.monotonic() + self.settings.follow_up_s
            dialogue.question = replace(call.question, deadline=deadline, asked=asker.reason or "")
        done = [c for c in (result.commands or [result]) if c.intent is not None and c.source != "none"]
        if done and self.settings.follow_up_s > 0:
            last = done[-1]
            deadline = time.monotonic() + self.settings.follow_up_s
            dialogue.last = Recent(
                last.intent or "",
                dict(last.slots),
                list(last.targets),
                last.confidence,
                "model" if last.source == "model" else "template",
                deadline,
            )
        result.latency_ms = round((time.perf_counter() - start) * 1000, 3)
        return result

    def _follow_up(self, text: str, recent: Recent | None) -> IntentResult | None:
        """ "And the study lamp", "the porch light too", "a bit more": the last command again, on
        what is named or as it was (``nlu.followup``); None when ``text`` is no follow-up. Said with
        no command before it, "and the study lamp" says no action: asked, never guessed."""
        if recent is not None and (slots := again(text, recent)) is not None:
            return IntentResult(
                text=text,
                intent=recent.intent,
                slots=slots,
                targets=list(recent.targets),
                confidence=recent.confidence,
                source=recent.source,
            )
        named = continued(text)
        if named is None and recent is None:
            return None
        said = named if named is not None else text
        norm = normalize_text(said)
        if says_more(norm, self._home_words) or any(w in ACTIONS and w not in self._home_words for w in norm.split()):
            return None  # "lock the front door" is a command: its kind word is its verb
        unasked = IntentResult(text=text, reason=f"what should I do with {said}?")
        if recent is None or not self.catalog.intents[recent.intent].has_targets:
            return unasked if named else None
        kept = {k: v for k, v in recent.slots.items() if k not in _NAMING}
        spec = self.catalog.intents[recent.intent]
        domains = {self._entities[t].domain for t in recent.targets if t in self._entities}
        if len(domains) == 1 and "domain" in spec.slots:
            kept["domain"] = next(iter(domains))  # "and the study" after the kitchen light: the study's lights
        asked = Question(recent.intent, kept, [], recent.confidence, recent.source, missing="target")
        result = answer_question(asked, said, self.catalog, self.home)
        if result is None:
            return None
        if (spec.specialises or recent.intent) in _WAYS:
            # "Lock the front door", then "and the garage door": a cover's turn on opens it. The way
            # of a lock, cover or vacuum goes on only to its own kind.
            new = {self._entities[t].domain for t in result.targets if t in self._entities}
            if any(d in _VERBS and d not in domains for d in new):
                return unasked
        return result.model_copy(update={"text": text})

    def _about_it(self, text: str, recent: Recent | None, call: _Call) -> tuple[IntentResult, _Call]:
        """The utterance parsed, with "it" or "them" said as the last command's devices ("turn it
        off", "make them brighter", "cancel it": the timer) when that is a command on them alone and
        no template holds the words as they are ("what time is it")."""
        referent = referent_text(recent, self._entities) if recent is not None else None
        said = with_referent(text, referent) if referent is not None else None
        if recent is None or said is None or self._held(text) is not None:
            return self._utterance(text, call), call
        mine = _Call(call.colours, min_confidence=call.min_confidence, unsure=call.unsure, area=call.area)
        result = self._utterance(said, mine)
        if result.intent is None or result.targets != recent.targets[:1]:
            return self._utterance(text, call), call
        update: dict[str, Any] = {"text": text}
        spec = self.catalog.intents[result.intent]
        others = [self._entities[t] for t in recent.targets[1:] if t in self._entities]
        if others and all(not spec.domains or e.domain in spec.domains for e in others):
            # "Turn them off" after the kitchen's lights: all of them, as they were named.
            naming = {k: v for k, v in recent.slots.items() if k in _NAMING and k in spec.slots}
            update["targets"] = list(recent.targets)
            update["slots"] = {**{k: v for k, v in result.slots.items() if k not in _NAMING}, **naming}
        elif others:
            return self._utterance(text, call), call
        return result.model_copy(update=update), mine

    def own_command(self, text: str) -> bool:
        """Whether ``text`` is a whole command of its own rather than an answer: a template holds it
        and it says more than which device or place ("make the kitchen light blue", "turn off the
        bed light"). A bare name ("the bed light", which a template reads as turning it on) answers."""
        return self.command_of_its_own(text) is not None

    def command_of_its_own(self, text: str) -> IntentResult | None:
        """The command a template holds ``text`` as, when it is one of its own (``own_command``)."""
        result = self._held(text)
        if result is None or set(result.slots) - _NAMING:
            return result
        said_names = [str(result.slots.get(key, "")) for key in ("name", "area", "floor")]
        # The name's aliases too: "the bedside lamp" is the Bedroom Lamp, said, not a command.
        said_names += [a for e in self.home.entities_named(str(result.slots.get("name", ""))) for a in e.aliases]
        return result if says_more(normalize_text(text), said_names) else None

    def held(self, text: str) -> bool:
        """Whether a template holds ``text`` as a command of this home (an intent, not a refusal).

        No model and no conversation: the exact test a speech engine's alternative must pass
        before it may stand in for what the engine found likeliest (``Assistant.choose_heard``).
        """
        return self._held(text) is not None

    def templated(self, text: str) -> IntentResult | None:
        """What a template makes of ``text`` (no model, no conversation), a refusal or a question
        included ("which lamp do you mean?"), or None when no template matches it."""
        if not text.strip() or len(text) > self.settings.max_chars:
            return None
        return self._template(text, _Call({}))

    def _held(self, text: str) -> IntentResult | None:
        """The template's command for ``text`` (no model, no conversation), or None."""
        result = self.templated(text)
        return result if result is not None and result.intent is not None else None

    def _utterance(self, text: str, call: _Call) -> IntentResult:
        """One command, or several ("turn off the porch light and lock the front door").

        Each part is parsed on its own (templates, then the model). When a part is not understood,
        the whole sentence on the templates wins if they hold it; when no part is understood, the
        sentence is parsed whole, as one command.
        """
        parts = self._splitter.split(text) if len(text) <= self.settings.max_chars else []
        if len(parts) < 2:
            return self._parse(text, call)
        mine = _Call(call.colours, min_confidence=call.min_confidence, unsure=call.unsure, area=call.area)
        self._prefetch(parts, mine)
        results, questions = [], {}
        for part in parts:
            results.append(self._part(part, mine))
            if mine.question is not None:
                questions[id(results[-1])] = mine.question
        commands = combine(spoken(text), parts, results, self.home)
        understood = [c.understood for c in commands]
        if not all(understood):
            whole = self._template(text, call)
            if whole is not None:
                return whole
            if not any(understood):
                return self._parse(text, call)
        call.memory.update(mine.memory)
        asker = next((c for c in reversed(commands) if c.awaiting), None)  # combine left one at most
        call.question = questions.get(id(asker)) if asker is not None else None
        return several(text, commands)

    def _part(self, part: Part, call: _Call) -> IntentResult:
        """One part of several, with its own text and time; "the porch light to blue" is tried as
        said on the templates first. ``call.question`` is then this part's question, if it asks."""
        start = time.perf_counter()
        call.question = None
        result = self._template(part.text, call) if self._as_said_first(part) else None
        if result is not None and result.intent is None and part.kind == "command":
            result, call.question = None, None  # "it" as said makes no command: "it" is the device before
        if result is None:
            result = self._parse(part.sentence, call)
        ms = round((time.perf_counter() - start) * 1000, 3)
        return result.model_copy(update={"text": part.text, "latency_ms": ms})

    def _prefetch(self, parts: list[Part], call: _Call) -> None:
        """Ask the model about every part bound for it at once (``choose_many``: one batch per
        step, the weights read once for all), keeping each choice for its part's own parse."""
        many = getattr(self._model, "choose_many", None)
        if many is None:
            return
        bound = list(dict.fromkeys(c for c in (self._model_bound(part, call) for part in parts) if c is not None))
        if len(bound) < 2:
            return
        try:
            call.chosen = dict(zip(bound, many(bound, self._labels), strict=True))
        except ValueError:  # a part too long for the context: each part is asked alone and says so
            call.chosen = {}

    def _model_bound(self, part: Part, call: _Call) -> str | None:
        """The continuation ``_model_path`` will give the model for ``part``; None when the part
        stops before it (``_part`` and ``_parse``'s earlier ways out, in their order)."""
        if self._model is None or (self._as_said_first(part) and self._match(part.text, call) is not None):
            return None
        text = part.sentence
        if not text.strip() or len(text) > self.settings.max_chars or clock_command(text, self._clock()) is not None:
            return None
        if self._match(text, call) is not None:
            return None
        norm = normalize_text(text)
        if not self._area(call) and self._bare_value is not None and self._bare_value.fullmatch(norm):
            return None
        return continuation(norm)

    def _match(self, text: str, call: _Call) -> TemplateMatch | None:
        """The template that holds ``text`` (as said, else normalised) as a command of one
        thing, or None; asked once per text and room in a call."""
        if not self.settings.use_templates:
            return None
        key = (text, self._area(call))
        if key not in call.matches:
            match = self._templates.match(text, key[1])
            norm = normalize_text(text)
            if match is None and norm != text:
                match = self._templates.match(norm, key[1])
            call.matches[key] = None if match is None or _one_for_a_thing(text, match.slots) else match
        return call.matches[key]

    @staticmethod
    def _as_said_first(part: Part) -> bool:
        """Whether the part's words as said go to the templates before its sentence: an ellipsis
        ("the porch light to blue"), and a part whose "it" the splitter took for the device before,
        since a template may hold "it" as said ("and what time is it", "and is it raining")."""
        return part.kind == "ellipsis" or (part.kind == "command" and part.sentence != part.text)

    def _template(self, text: str, call: _Call) -> IntentResult | None:
        """The template path alone: the result when a template holds ``text``, else None."""
        match = self._match(text, call)
        if match is None:
            return None
        norm = normalize_text(text)
        slots = self._one_device(text, norm, match.intent, dict(match.slots), 1.0, "template", call)
        if isinstance(slots, IntentResult):
            return slots
        return self._finish(text, match.intent, slots, 1.0, "template", call)

    def _parse(self, text: str, call: _Call) -> IntentResult:
        if not text.strip():
            return IntentResult(text=text, reason="empty text")
        if len(text) > self.settings.max_chars:
            return IntentResult(text=text, reason=f"text longer than {self.settings.max_chars} characters")
        scheduled = self._at_clock_time(text, call)
        if scheduled is not None:
            return scheduled
        templated = self._template(text, call)
        if templated is not None:
            return templated
        norm = normalize_text(text)
        if not self._area(call) and self._bare_value is not None and self._bare_value.fullmatch(norm):
            # "red" or "fifty percent" with no question waiting and no room of its own: turning
            # every light of the house red would be a guess.
            return IntentResult(text=text, reason=ANY_DEVICE)
        if self._model is None:
            return IntentResult(text=text, reason="no template matched and no model is loaded")
        return self._model_path(text, norm, call)

    def _at_clock_time(self, text: str, call: _Call) -> IntentResult | None:
        """ "Turn off the lights at 11 pm": a timer until then that carries the command.

        Never the command now: said for later, it must not run at once. The timer's length is
        the time from now until then; the command must parse now, as any delayed command must.
        None when no clock time is said (or only an alarm: "wake me up at 7 am").
        """
        found = clock_command(text, self._clock())
        if found is None:
            return None
        command, seconds = found
        timer = self.catalog.intents.get(_TIMER)
        if timer is None or "conversation_command" not in timer.slots:
            return IntentResult(text=text, reason=f"I cannot do '{command}' later: no timer intent in the catalog")
        inner, why = self._delayed(command, call)
        if why is not None:
            return IntentResult(text=text, source=inner.source, confidence=inner.confidence, reason=why)
        length = {"hours": seconds // 3600, "minutes": seconds % 3600 // 60, "seconds": seconds % 60}
        raw = {**{k: v for k, v in length.items() if v}, "conversation_command": command}
        # The command is checked above, once: the timer itself has no targets to resolve.
        slots = finalize_slots(timer, self.home, raw)
        return IntentResult(text=text, intent=_TIMER, slots=slots, confidence=inner.confidence, source=inner.source)

    def _model_path(self, text: str, norm: str, call: _Call) -> IntentResult:
        """The model picks the intent; when the command cannot be that intent, the next likeliest.

        "start the coffee maker" may first come out as a vacuum command: the coffee maker exists
        but is no vacuum (``Unfit``), so the next likeliest option is taken, by its probability
        among all options (so a confident pick that failed never turns a weak second one into a
        command). The same for an intent whose required value the words do not state
        (``MissingValue``). Other rejections (an unknown device or area) stand.
        """
        assert self._model is not None
        cont = continuation(norm)
        try:
            choice = call.chosen.pop(cont, None) or self._model.choose(cont, self._labels)
        except ValueError as exc:
            return IntentResult(text=text, source="model", reason=str(exc))
        first = self._pick(text, norm, choice.index, round(float(choice.probability), 4), call, second=False)
        if isinstance(first, IntentResult):
            return first
        way = self._way_of_device(text, norm, first, call)
        if way is not None:
            return way
        probs = self._model.distribution(cont, self._labels)
        probs[choice.index] = -1.0
        index = max(range(len(probs)), key=probs.__getitem__)
        second = self._pick(text, norm, index, round(probs[index], 4), call, second=True)
        return second if isinstance(second, IntentResult) and second.intent else self._failed(text, first, call)

    def _way_of_device(self, text: str, norm: str, first: _Retry, call: _Call) -> IntentResult | None:
        """ "Pause the vacuum", read as pausing media: the device named cannot do the model's pick,
        and the verb said is one way of its own kind (a vacuum's "pause": back to its dock; a
        lock's "unlock"). That way, at the first pick's confidence; None otherwise."""
        if not isinstance(first.error, Unfit) or not isinstance(first.raw.get("name"), str):
            return None
        domains = {e.domain for e in self.home.entities_named(first.raw["name"])}
        verbs = _VERBS.get(domains.pop()) if len(domains) == 1 else None
        words = set(norm.split())
        said = [way for way, said_by in (verbs or {}).items() if words & said_by]
        if len(said) != 1 or said[0] == first.intent or said[0] not in self._names:
            return None
        result = self._pick(text, norm, self._names.index(said[0]), first.confidence, call, second=True)
        return result if isinstance(result, IntentResult) and result.intent else None

    def _pick(
        self, text: str, norm: str, index: int, confidence: float, call: _Call, second: bool
    ) -> IntentResult | _Retry:
        """The result of intent ``index``, or why another pick is worth trying."""
        if index >= len(self._names):
            return IntentResult(text=text, source="model", confidence=confidence, reason="out of scope")
        name = self._names[index]
        spec = self.catalog.intents[name]
        floor = max(self.settings.min_confidence, call.min_confidence)
        if confidence < floor and not self._kin(name):
            return IntentResult(text=text, source="model", confidence=confidence, reason="not sure")
        if spec.require_one_of and set(spec.require_one_of) <= set(_DURATION_SLOTS) and repeats(norm):
            return IntentResult(text=text, source="model", confidence=confidence, reason="I cannot repeat a command")
        name, spec, raw = self._other_measure(name, spec, extract_slots(spec, self.home, norm), norm)
        raw = self._with_context_area(spec, raw, call)
        other = self._other_kind(spec, raw, norm)
        if isinstance(other, Unfit):
            return self._unfit(text, name, raw, confidence, floor, second, other)
        raw = other
        asked = self._which_one(text, norm, name, raw, confidence, call)
        if asked is not None:
            return asked
        one = self._one_device(text, norm, name, raw, confidence, "model", call)
        if isinstance(one, IntentResult):
            return one
        raw = one
        try:
            result = self._resolved(text, name, raw, confidence, "model", call)
        except (MissingValue, Unfit) as exc:
            return self._unfit(text, name, raw, confidence, floor, second, exc)
        except Unresolved as exc:
            if confidence < floor:
                return IntentResult(text=text, source="model", confidence=confidence, reason="not sure")
            return IntentResult(text=text, source="model", confidence=confidence, reason=str(exc))
        if confidence >= floor:
            return result
        sure = self._one_action(norm, name, result.targets, confidence) if result.intent else confidence
        if sure < floor:
            call.question = None  # nothing is asked of a guess
            return IntentResult(text=text, source="model", confidence=confidence, reason="not sure")
        return result.model_copy(update={"confidence": sure})

    def _unfit(
        self,
        text: str,
        name: str,
        raw: dict[str, Any],
        confidence: float,
        floor: float,
        second: bool,
        error: MissingValue | Unfit,
    ) -> IntentResult | _Retry:
        """A pick that cannot be carried out as read: "not sure" below the floor, the reason on a
        second pick, else worth a second pick."""
        if confidence < floor:
            return IntentResult(text=text, source="model", confidence=confidence, reason="not sure")
        if second:
            return IntentResult(text=text, source="model", confidence=confidence, reason=str(error))
        return _Retry(error, name, raw, confidence)

    def _other_kind(self, spec: IntentSpec, raw: dict[str, Any], norm: str) -> dict[str, Any] | Unfit:
        """``raw`` with the device a kind said names, or ``Unfit``, when the pick cannot act on that
        kind ("turn the fan up" read as a volume change); ``raw`` as it is otherwise.

        With no device named, the intent's own kind would be taken: the home's one TV, or every
        light in the room. One device of the kind said is named, so that the way of its own kind
        may be taken ("pause the fan" is no media pause); several say what cannot be done.
        """
        slot = spec.slots.get("name")
        if slot is None or slot.type != "entity" or raw.keys() & {"name", "domain"}:
            return raw
        other = other_kind(spec, self.home, norm)
        if other is None:
            return raw
        if self.home.entities_named(other):
            return {**raw, "name": other}
        return Unfit(f"the {other} cannot {spec.label}")

    def _kin(self, name: str) -> list[str]:
        """The intents that do what ``name`` does on a device of their kind: a generic intent and
        those that specialise it (HassTurnOn and HassVacuumStart)."""
        parent = self.catalog.intents[name].specialises
        if parent:
            return [parent, *(s for s in self._special.get(parent, ()) if s != name)]
        return list(self._special.get(name, ()))

    def _one_action(self, norm: str, name: str, targets: list[str], confidence: float) -> float:
        """The model's probability of the action that ``name`` takes on ``targets``: its own, plus
        that of each kin intent that takes the same action there. "Turn the robot vacuum cleaner
        on" split between HassTurnOn and HassVacuumStart is one start of the vacuum, and the floor
        for heard speech weighs that, not either half (the parts of an action are not two guesses)."""
        assert self._model is not None
        own = self._action_of(name, targets)
        kin = [k for k in self._kin(name) if own is not None and self._action_of(k, targets) == own]
        if not kin:
            return confidence
        probs = self._model.distribution(continuation(norm), self._labels)
        return round(confidence + sum(probs[self._names.index(k)] for k in kin), 4)

    def _action_of(self, name: str, targets: list[str]) -> str | None:
        """The intent ``name`` acts as on ``targets`` (its specialisation there); None when it does
        not fit them (a vacuum intent on a light)."""
        spec = self.catalog.intents[name]
        if not targets or not all(t in self._entities for t in targets):
            return None
        if spec.specialises and not all(self._entities[t].domain in spec.domains for t in targets):
            return None
        return self._specialise(name, {}, targets)[0]

    def _other_measure(
        self, name: str, spec: IntentSpec, raw: dict[str, Any], norm: str
    ) -> tuple[str, IntentSpec, dict[str, Any]]:
        """A reading of one measure that asks about another ("what is the humidity", read by the
        model as a temperature question) is a state question (``other_measures``): of the sensor
        named, or of every sensor of that measure. The intent stands when the words name a sensor
        it reads, or say its own measure too ("the temperature and the humidity")."""
        if spec.other_measures is None:
            return name, spec, raw
        named = self.home.entities_named(raw["name"]) if isinstance(raw.get("name"), str) else []
        said = set(domain_table().measures_said(norm))
        if named:
            other = all(measure_of(e) is not None and measure_of(e) not in spec.measures for e in named)
        else:
            other = bool(said) and not said & set(spec.measures)
        if not other:
            return name, spec, raw
        reader = self.catalog.intents[spec.other_measures]
        return spec.other_measures, reader, extract_slots(reader, self.home, norm)

    def _which_one(
        self, text: str, norm: str, name: str, raw: dict[str, Any], confidence: float, call: _Call
    ) -> IntentResult | None:
        """A setting said with its value and no device ("set it to pink", "brightness to fifty"):
        which one, when the home has several it may be for. Never every one of them: on the model
        path that would be a guess ("I'm Pable Pink", heard in a quiet room, set every light pink).

        None when the words name, place or class a device, say "all", or the home has only one.
        """
        spec = self.catalog.intents[name]
        if not (spec.has_targets and spec.domains and spec.require_one_of) or raw.keys() & _NAMING:
            return None
        words = set(norm.split())
        if words & _EVERY or any(class_domain(w) in spec.domains for w in words):
            return None
        fitting = [e for e in self.home.entities if e.domain in spec.domains]
        if len(fitting) < 2:
            return None
        try:
            slots = finalize_slots(spec, self.home, raw)
        except Unresolved:
            return None  # a missing value is asked for, or another intent tried, as before
        kind = spec.domains[0].replace("_", " ") if len(spec.domains) == 1 else "device"
        return _ask_which(text, name, slots, fitting, kind, confidence, call)

    def _one_device(
        self,
        text: str,
        norm: str,
        name: str,
        raw: dict[str, Any],
        confidence: float,
        source: Literal["template", "model"],
        call: _Call,
    ) -> dict[str, Any] | IntentResult:
        """``raw`` naming the one device a kind said in the singular means (``_one_of_kind``), or
        the question which one when the home has several ("which lamp do you mean: ...?")."""
        spec = self.catalog.intents[name]
        kind = self._one_of_kind(spec, raw, norm) or self._one_by_head(spec, raw, norm)
        if kind is None:
            return raw
        noun, fitting = kind
        here = self.home.area(self._area(call))
        # Said in a room (the model path has placed it already): the one there, when there is one.
        fitting = [e for e in fitting if here is not None and self.home.area_of(e) == here] or fitting
        if len(fitting) > 1:  # the question keeps what was said of the value ("blue")
            values = {k: v for k, v in raw.items() if k not in _NAMING}
            with contextlib.suppress(Unresolved):  # kept as said; the answer's parse checks it
                values = finalize_slots(spec, self.home, values) if values else {}
            return _ask_which(text, name, values, fitting, noun, confidence, call, source)
        return {**raw, "name": fitting[0].name}

    def _one_of_kind(self, spec: IntentSpec, raw: dict[str, Any], norm: str) -> tuple[str, list[Entity]] | None:
        """ "Turn on the lamp", "make the light blue": a kind of device said in the singular, with
        no name, place or "all", is one device. The devices it may be (those whose name holds a
        narrower word said, "lamp", else every one of the kind) and the word, when the home has
        more than one of the kind; None otherwise. The plural ("the lights") and "all" still mean
        every one of them. An intent with no domain slot (HassLightSet) takes the kind from its
        own domains.
        """
        if raw.keys() & {"name", "area", "floor"}:
            return None
        domains = [raw["domain"]] if "domain" in raw else list(spec.domains)
        words = norm.split()
        if not domains or set(words) & _EVERY:
            return None
        noun = next((w for w in reversed(words) if class_domain(w) in domains), None)  # "light up the lamp"
        if noun is None or noun.endswith("s") or noun.endswith("ing"):  # "lights", "lighting"
            return None
        domain = raw.get("domain") or class_domain(noun)
        kind = [
            e for e in self.home.entities if e.domain == domain and raw.get("device_class") in (None, e.device_class)
        ]
        if len(kind) < 2:
            return None
        # A kind's own word ("light") is every one of it; a narrower word ("lamp") picks the devices
        # named with it: "the light" is not the one device called "Dining Table Light".
        named = [e for e in kind if any(noun in n.lower().split() for n in e.names)] if noun != domain else []
        fitting = named or kind
        # The other words of a name, said apart ("the study's lamp"), pick that one device.
        said = {w.removesuffix("'s") for w in words}
        rest = [e for e in fitting if any(_said_apart(n, noun, said) for n in e.names)]
        return noun, rest if len(rest) == 1 else fitting

    def _one_by_head(self, spec: IntentSpec, raw: dict[str, Any], norm: str) -> tuple[str, list[Entity]] | None:
        """ "Unlock the door": a word said that ends the names of devices this intent acts on
        ("Front Door", "Garage Door"), with no name, place or "all" said, is one of them. When they
        are of several kinds, a way said that is one kind's own ("unlock": a lock's, "open": a
        cover's) keeps that kind. The word and the devices it may be; None when no name ends so.
        """
        if raw.keys() & {"name", "area", "floor"} or not spec.has_targets:
            return None
        domains = [raw["domain"]] if "domain" in raw else list(spec.domains)
        words = norm.split()
        if set(words) & (_EVERY | _WHOLE_HOME):
            return None
        table = domain_table()
        for noun in reversed(words):
            # "the lights" is a kind, "the humidity" a measure, "any doors" every one: not one device.
            if noun in _FILLERS or noun in _WAY_WORDS or noun.endswith("s") or class_domain(noun):
                continue
            if table.measures_said(noun):
                continue
            fitting = [
                e
                for e in self._by_head.get(noun, ())
                if (e.domain in domains if domains else e.domain not in _READ_ONLY)
            ]
            if fitting:
                break
        else:
            return None
        kinds = {e.domain for e in fitting}
        said = {d for d in kinds if set(words) & frozenset().union(*_VERBS.get(d, {}).values())}
        if len(kinds) > 1 and len(said) == 1:
            fitting = [e for e in fitting if e.domain in said]
        return noun, fitting

    def _failed(self, text: str, first: _Retry, call: _Call) -> IntentResult:
        """The first pick's rejection: its question when only a value was missing."""
        if isinstance(first.error, MissingValue):
            return self._asking(text, first.intent, first.raw, first.confidence, "model", first.error, call)
        return IntentResult(text=text, source="model", confidence=first.confidence, reason=str(first.error))

    def _finish(
        self,
        text: str,
        name: str,
        raw: dict[str, Any],
        confidence: float,
        source: Literal["template", "model"],
        call: _Call,
    ) -> IntentResult:
        try:
            return self._resolved(text, name, raw, confidence, source, call)
        except MissingValue as exc:
            return self._asking(text, name, raw, confidence, source, exc, call)
        except Unresolved as exc:
            return IntentResult(text=text, source=source, confidence=confidence, reason=str(exc))

    def _asking(
        self,
        text: str,
        name: str,
        raw: dict[str, Any],
        confidence: float,
        source: Literal["template", "model"],
        missing: MissingValue,
        call: _Call,
    ) -> IntentResult:
        """A command that lacks only its value: the question, and the command kept to complete.

        Everything else must hold already: "change the colour in the attic" is rejected for the
        attic, not asked about.
        """
        spec = self.catalog.intents[name]
        raw = _sure(raw, call.unsure)
        try:
            slots = finalize_slots(spec.model_copy(update={"require_one_of": ()}), self.home, raw)
            targets = resolve_targets(spec, self.home, slots, self._area(call)) if self.settings.resolve_targets else []
        except Unresolved as exc:
            return IntentResult(text=text, source=source, confidence=confidence, reason=str(exc))
        call.question = Question(name, slots, targets, confidence, source)
        return IntentResult(text=text, source=source, confidence=confidence, reason=str(missing), awaiting=name)

    def _resolved(
        self,
        text: str,
        name: str,
        raw: dict[str, Any],
        confidence: float,
        source: Literal["template", "model"],
        call: _Call,
    ) -> IntentResult:
        """The validated, resolved result; ``Unresolved`` when the command cannot be carried out."""
        spec = self.catalog.intents[name]
        raw = _sure(raw, call.unsure)
        try:
            slots = finalize_slots(spec, self.home, raw)
        except MissingValue:
            other = self._another_colour(spec, text, raw, call)
            if other is None:
                raise
            slots = finalize_slots(spec, self.home, {**raw, "color": other})
        try:
            targets = resolve_targets(spec, self.home, slots, self._area(call)) if self.settings.resolve_targets else []
        except Ambiguous as exc:
            if exc.room and source == "model":
                # Only the catalog's "everything" sentences ask which room; a model pick with no
                # device ("power off", "turn on Standlight") asks which device, and "the tv" or
                # "in the kitchen" answers it.
                call.question = Question(name, slots, exc.ids, confidence, source, missing="target")
                return IntentResult(text=text, source=source, confidence=confidence, reason=ANY_DEVICE, awaiting=name)
            if not set(normalize_text(text).split()) & (_WHOLE_HOME if exc.room else _BOTH):
                # "In the bedroom" answers it: the name stays, the room narrows it.
                call.question = Question(name, slots, exc.ids, confidence, source, missing="target")
                return IntentResult(text=text, source=source, confidence=confidence, reason=str(exc), awaiting=name)
            targets = exc.ids  # "turn off both ceiling lights"
        if isinstance(slots.get("color"), str):
            call.memory.update(dict.fromkeys(targets, slots["color"]))
        if slots.get("conversation_command"):
            if only_timer_words(str(slots["conversation_command"])):
                del slots["conversation_command"]  # "wake me up in 20 minutes": a plain timer
            else:
                _, why = self._delayed(str(slots["conversation_command"]), call)
                if why is not None:
                    raise Unresolved(why)
        name, slots = self._specialise(name, slots, targets)
        if source == "model":
            name = self._said_way(name, targets, text)
        return IntentResult(text=text, intent=name, slots=slots, targets=targets, confidence=confidence, source=source)

    def _said_way(self, name: str, targets: list[str], text: str) -> str:
        """The model's turn on or off, as the words said it.

        "Turn the study" or "switch the fan" with no way said ("on", "off", "up", "open", ...) is
        refused with what is missing, not guessed: Whisper heard "turn the study" in noise for
        "what is the temperature in the study", and the model's pick switched on the study's lamp
        and opened its blinds.

        In Home Assistant's terms locking a lock and opening a cover are turning it on. A model
        that read "I'm heading out, lock the front door" as off would unlock it: the one verb said
        ("lock", "unlock", "open", "close", "shut") decides; with both or neither, the model's pick
        stands. A lock opened is unlocked, and closed, locked (``_DOOR_WAYS``).
        """
        way = self.catalog.intents[name].specialises or name  # HassVacuumStart is a way on
        if way not in _WAYS or not targets:
            return name
        words = set(re.findall(r"[a-z]+", text.lower()))
        if words & _WAYLESS and not words & _WAY_WORDS:
            raise Unresolved("on or off? say which")
        domains = {self._entities[t].domain for t in targets if t in self._entities}
        domain = domains.pop() if len(domains) == 1 else None
        verbs = _VERBS.get(domain) if domain else None
        if verbs is None:
            return name
        doors = _DOOR_WAYS.get(domain or "", {})
        said = [intent for intent, said_by in verbs.items() if words & (said_by | doors.get(intent, frozenset()))]
        if len(said) != 1 or said[0] == way:
            return name
        # The other way, as this domain's own intent when it has one ("stop the vacuum": back to base).
        return next((s for s in self._special.get(said[0], ()) if domain in self.catalog.intents[s].domains), said[0])

    def _another_colour(self, spec: IntentSpec, text: str, raw: dict[str, Any], call: _Call) -> str | None:
        """For "make the lights a different colour": the colour after the one the targets have now.

        None when the words ask for no new colour.
        """
        if not wants_another_colour(spec, text):
            return None
        loose = spec.model_copy(update={"require_one_of": ()})
        targets = resolve_targets(spec, self.home, finalize_slots(loose, self.home, raw), self._area(call))
        return next_colour(spec, targets, {**call.colours, **call.memory}, self._entities)

    def _delayed(self, command: str, call: _Call) -> tuple[IntentResult, str | None]:
        """A command to run after a delay ("turn off the lights in 10 minutes") must parse now:
        its parse, and why it cannot be delayed (None when it can).

        Otherwise "remind me about the meeting in one hour" would start a timer that does nothing
        when it rings; the user hears why instead.
        """
        inner = self._parse(command, call)
        if inner.intent is None:
            return inner, f"I cannot do '{command}' later: {inner.reason or 'not understood'}"
        if inner.slots.get("conversation_command"):
            return inner, f"I cannot delay '{command}' twice"
        return inner, None

    def _specialise(self, name: str, slots: dict[str, Any], targets: list[str]) -> tuple[str, dict[str, Any]]:
        """A generic intent whose every target has a more specific intent becomes that intent."""
        for special in self._special.get(name, ()):
            spec = self.catalog.intents[special]
            if targets and all(t in self._entities and self._entities[t].domain in spec.domains for t in targets):
                return special, {k: v for k, v in slots.items() if k in spec.slots}
        return name, slots

    def _area(self, call: _Call) -> str | None:
        """The room this utterance was said in: the conversation's (a satellite's), else ``[nlu] area``."""
        return call.area or self.settings.area

    def _with_context_area(self, spec: IntentSpec, raw: dict[str, Any], call: _Call) -> dict[str, Any]:
        """On the model path an unplaced device command means "here" (templates do this themselves)."""
        area = self._area(call)
        if area and "area" in spec.slots and not raw.keys() & {"name", "area", "floor"}:
            return {**raw, "area": area}
        return raw


def _bare_value_pattern(catalog: Catalog) -> re.Pattern[str] | None:
    """A value said on its own ("red", "make it fifty percent") for an intent that acts on devices."""
    forms: set[str] = set()
    for spec in catalog.intents.values():
        if not spec.has_targets:
            continue
        for name in spec.require_one_of:
            slot = spec.slots[name]
            if slot.type == "enum":
                forms.update(re.escape(v) for v in (*slot.values, *slot.aliases))
            elif slot.type in ("int", "number") and (slot.max is None or slot.max <= 100):
                forms.add(r"-?\d+(?:\.\d+)? (?:percent|degrees)")
    if not forms:
        return None
    return re.compile(rf"(?:make it |set it to |to )?(?:{'|'.join(sorted(forms))})(?: please)?")
