"""The assistant core: one place where a turn is handled, for every front end.

A turn is text in → parse → safety policy and handlers → one reply → (spoken). The microphone
pipeline, ``run --text``, ``handle``, ``listen --dispatch``, the daemon and a Wyoming hub all call
``Assistant.handle_async`` (or its synchronous twin ``handle``); none keeps a copy of that sequence.

What a conversation remembers between turns (a question waiting for its value, a confirmation
waiting for yes or no) is a ``Dialogue``: the assistant keeps one for callers that have a single
conversation, and ``new_dialogue()`` gives one to each client of a server.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Coroutine, Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from edge_assistant.events import ActionResult, Dispatcher, IntentResult, Scorer, Speaker, Transcript
from edge_assistant.nlu.dialogue import ANY_DEVICE, Confirmation, Dialogue
from edge_assistant.nlu.names import renamings, unknown_said
from edge_assistant.nlu.normalize import normalize_text, unsure_numbers
from edge_assistant.nlu.targets import names_said
from edge_assistant.replies import join_replies, not_understood_reply, summarize
from edge_assistant.stt import SttSettings

if TYPE_CHECKING:
    from edge_assistant.config import Settings
    from edge_assistant.nlu.parser import Parser
    from edge_assistant.stt.near import NearCommands

__all__ = ["Assistant", "CommandWeighing", "NameWeighing", "Turn", "command_scorer"]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
# Statuses of a turn that did something the user hears about: acted, asked, or answered a question.
_HANDLED = frozenset({"done", "dry_run", "confirm", "cancelled"})
# A name the speech engine's beam never reached stands in for the word heard only when the audio
# says it nearly as well (at most NAME_GAP nats less likely, over the whole sentence) and better
# than any other name of the home by NAME_MARGIN (BENCHMARKS.md, "names the ear missed").
NAME_GAP = 1.0
NAME_MARGIN = 2.0
# A command of the home a few letters from what was heard ("Time for status" / "timer status")
# stands in for it only when the audio says it at most COMMAND_GAP nats less likely, and better
# than any command that means something else by COMMAND_MARGIN (BENCHMARKS.md, "Commands the ear
# nearly heard").
COMMAND_GAP = 5.0
COMMAND_MARGIN = 2.0
_NEAR: weakref.WeakKeyDictionary[Parser, NearCommands] = weakref.WeakKeyDictionary()
_NEAR_LOCK = threading.Lock()


@dataclass(frozen=True)
class NameWeighing:
    """How the audio weighed the home's names in place of a word the home lacks (``weigh_name``)."""

    candidate: str  # the sentence with the name the audio says best
    gap: float  # nats by which the audio prefers what was heard (negative: it prefers the name)
    lead: float | None  # nats by which that name beats the next one (None: the only name)
    taken: bool  # within NAME_GAP, NAME_MARGIN ahead, and a template of the home holds it


@dataclass(frozen=True)
class CommandWeighing:
    """How the audio weighed the home's commands nearest to a heard sentence that nothing, or only
    the intent model, acted on (``weigh_command``)."""

    candidate: str  # the command the audio says best
    gap: float  # nats by which the audio prefers what was heard (negative: it prefers the command)
    lead: float | None  # nats ahead of the best command that means something else (None: none)
    taken: bool  # within COMMAND_GAP and COMMAND_MARGIN ahead
    weighed: int  # how many commands were scored


def command_scorer(transcript: Transcript | None, command: str) -> Scorer | None:
    """The engine's scorer of other commands on ``transcript``'s audio, for ``command`` cut from its
    text (after a wake phrase): each text is scored after the words heard before the command, as
    the audio says them. None where the engine has no scorer or ``command`` is not how its text ends
    (an alternative hypothesis was chosen)."""
    if transcript is None or transcript.score is None or not command or not transcript.text.endswith(command):
        return None
    score, lead = transcript.score, transcript.text[: len(transcript.text) - len(command)]
    return lambda texts: score([lead + text for text in texts])


def heard_hypotheses(transcript: Transcript | None, command: str) -> list[str]:
    """The speech engine's readings of the utterance ``command`` came from (its text and its
    alternatives), or none when ``command`` is not one of them."""
    if transcript is None or not command:
        return []
    readings = [transcript.text, *(transcript.extra.get("alternatives") or ())]
    return readings if any(reading.endswith(command) for reading in readings) else []


@dataclass(frozen=True)
class Turn:
    """One handled utterance: its parse, what the handlers did, the reply and the timings (ms)."""

    id: str
    parse: IntentResult
    actions: list[ActionResult] = field(default_factory=list)
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The utterance as it was handled."""
        return self.parse.text

    @property
    def handled(self) -> bool:
        """True when the turn acted, asked a question or answered one; False when nothing was understood."""
        asked = any(c.awaiting for c in (self.parse, *self.parse.commands))
        return asked or any(a.status in _HANDLED for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        """The object ``handle`` prints: the parse contract plus ``actions`` and the turn's one
        ``reply`` (what is said for the whole utterance, several commands included)."""
        return {**self.parse.model_dump(), "actions": [a.model_dump() for a in self.actions], "reply": self.reply}


class Assistant:
    """Owns the parser, the dispatcher, the speaker and the default conversation.

    Build it with ``from_config``; ``handle(text)`` runs one turn. Parses are serialised (the
    language model serves one call at a time); handlers of different turns run concurrently.
    """

    def __init__(
        self,
        parser: Parser,
        dispatcher: Dispatcher | None = None,
        speaker: Speaker | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.parser = parser
        self.dispatcher = dispatcher
        self.speaker = speaker
        self.settings = settings
        # The model path's floor for heard speech (``[stt] min_model_confidence``; BENCHMARKS.md).
        stt = settings.stt if settings is not None else SttSettings()
        self.heard_floor = stt.min_model_confidence
        self.near_most = stt.near_commands
        self.dialogue = Dialogue()
        self._parse_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_config(
        cls,
        config: str | Path | None = None,
        *,
        home: str | Path | None = None,
        model: str | None = None,
        use_model: bool = True,
        speak: bool = False,
        dry_run: bool = False,
    ) -> Assistant:
        """The real assistant from the config TOML and home YAML the command line uses.

        ``home`` defaults to ``[nlu] home``; ``model`` overrides ``[model] path``; ``speak`` turns
        on the ``[tts]`` speaker; ``dry_run`` logs what would be done instead of acting.
        """
        from edge_assistant.config import load_settings

        settings = load_settings(config)
        if dry_run:
            settings = settings.model_copy(update={"policy": settings.policy.model_copy(update={"dry_run": True})})
        return cls.from_settings(settings, config, home=home, model=model, use_model=use_model, speak=speak)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        config: str | Path | None = None,
        *,
        home: str | Path | None = None,
        model: str | None = None,
        use_model: bool = True,
        speak: bool = False,
    ) -> Assistant:
        """As ``from_config``, from settings already loaded (``config`` places relative paths)."""
        from edge_assistant.dispatch import build_dispatcher
        from edge_assistant.runtime import build_parser, resolve_home_path

        parser = build_parser(
            settings, resolve_home_path(settings, config, home), model, use_model=use_model, config_path=config
        )
        dispatcher = build_dispatcher(settings, parser.home, parser.catalog, config_path=config)
        speaker = None
        if speak:
            from edge_assistant.tts import build_speaker

            speaker = build_speaker(settings.tts)
        return cls(parser, dispatcher, speaker, settings)

    def new_dialogue(self) -> Dialogue:
        """A fresh conversation, for a front end that serves several (one per Wyoming client)."""
        return Dialogue()

    def parse(
        self,
        text: str,
        dialogue: Dialogue | None = None,
        *,
        min_confidence: float = 0.0,
        unsure: frozenset[float] = frozenset(),
    ) -> IntentResult:
        """Parse only (no handlers), in ``dialogue`` (default: the assistant's own conversation);
        ``min_confidence``: the model path's floor for this text; ``unsure``: numbers to ask for
        rather than act on (``Parser.parse``)."""
        with self._parse_lock:
            return self.parser.parse(
                text, self.dialogue if dialogue is None else dialogue, min_confidence=min_confidence, unsure=unsure
            )

    def choose_heard(self, text: str, alternatives: Sequence[str], dialogue: Dialogue | None = None) -> str:
        """What to act on: ``text``, or the first of a speech engine's ``alternatives`` that a
        template of the home holds when ``text`` is held by none.

        Whisper's likeliest hypothesis is sometimes a near miss ("Bause the timer", "Turn on
        standing lights") while one nearly as likely is a command of this home ("Pause the timer");
        the exact template match is the evidence that decides, never the model's reading of a
        misheard word. An alternative never drops a device or place of the home that ``text``
        names ("... in the Office" refused where the Office has no lights is not "... in the
        house"). Natural phrasing the templates do not hold stays as heard when no alternative is
        a template sentence, and goes to the model. While a question or a confirmation waits for
        an answer, the text is taken as heard ("the bed light", "yes").
        """
        dialogue = self.dialogue if dialogue is None else dialogue
        if not alternatives or dialogue.waiting():
            return text
        with self._parse_lock:
            if self.parser.held(text):
                return text
            home = self.parser.home
            named = names_said(home, normalize_text(text))
            return next(
                (a for a in alternatives if named <= names_said(home, normalize_text(a)) and self.parser.held(a)), text
            )

    def heard_name(self, text: str, result: IntentResult, score: Scorer) -> str | None:
        """``text`` with the home's name that the audio says in place of a word the home lacks, or None.

        "What is the temperature of the incubi" is refused (no device called "incubi"); Whisper's
        beam never reached "EcoBee", but scored on the same audio, the sentence with "EcoBee" is as
        likely as the one heard. It is taken only when it is nearly as likely as what was heard,
        clearly likelier than with any other name, and a template of the home holds it: the audio
        and an exact sentence decide, never a guess. Anything else stays refused as heard.
        """
        weighed = self.weigh_name(text, result, score)
        return weighed.candidate if weighed is not None and weighed.taken else None

    def weigh_name(self, text: str, result: IntentResult, score: Scorer) -> NameWeighing | None:
        """The evidence ``heard_name`` decides on; None when ``result`` is no refusal for a name."""
        unknown = unknown_said(result.reason)
        if unknown is None or result.commands:
            return None
        candidates = renamings(self.parser.home, text, *unknown)
        if not candidates:
            return None
        candidate, gap, lead = _weigh(text, candidates, score)
        taken = gap <= NAME_GAP and (lead is None or lead >= NAME_MARGIN)
        if taken:
            with self._parse_lock:
                taken = self.parser.held(candidate)
        return NameWeighing(candidate, gap, lead, taken)

    def heard_command(self, text: str, result: IntentResult, score: Scorer) -> str | None:
        """The command of the home that the audio says in place of ``text``, or None.

        In noise the ear hears a command a few letters off ("Cancel all the tires", "Time for
        status") that nothing acts on, or that the intent model reads as something else ("Then
        the light is in the Study" as switching the lamp on, for "dim the lights in the study").
        The home's command sentences nearest to it in letters are scored on the same audio; one
        is taken only when it is nearly as likely as what was heard and clearly likelier than any
        that does something else: the audio and an exact sentence of the home decide, never a
        guess. Anything else stays as it was.
        """
        weighed = self.weigh_command(text, result, score)
        if weighed is None:
            return None
        _log.log(
            logging.INFO if weighed.taken else logging.DEBUG,
            "heard %r (%s): %s %r, the audio %.2f nats from it, %s",
            text,
            result.intent or result.reason,
            "acting on" if weighed.taken else "not taking",
            weighed.candidate,
            weighed.gap,
            "nothing else near" if weighed.lead is None else f"{weighed.lead:.2f} nats ahead of the next",
            extra={"weighing": weighed, "heard": text, "read": result.intent},
        )
        return weighed.candidate if weighed.taken else None

    def weigh_command(self, text: str, result: IntentResult, score: Scorer) -> CommandWeighing | None:
        """The evidence ``heard_command`` decides on. None when a template acted on ``result`` or
        matches ``text`` (heard as a command, and refused as one), when ``result`` asks a question
        ("which lamp do you mean: ...?", "What brightness?": it was understood, and the answer
        completes it; not "which device do you mean?", asked when no device was heard), when a
        name the home lacks was weighed already (``heard_name``), or when no command is near that
        does other than the model read (then there is nothing to weigh)."""
        # "Which device do you mean?" asks of no device said: the ear may have missed its name.
        if self.near_most == 0 or (result.awaiting and result.reason != ANY_DEVICE) or result.commands:
            return None
        if result.intent is not None and result.source != "model":
            return None
        if unknown_said(result.reason):
            return None
        near = self.near_commands()
        with self._parse_lock:
            if self.parser.templated(text) is not None:
                return None
            # A bare name is a template ("the TV" turns it on) but no reading of a sentence that
            # said more: "New the TV" is not "the TV".
            held = [(c, self.parser.command_of_its_own(c)) for c in near.near(text, self.near_most)]
            candidates = [(_meaning(command), c) for c, command in held if command is not None]
        if all(meaning == _meaning(result) for meaning, _ in candidates):
            return None  # nothing near, or all of it does what the model read already
        candidate, gap, lead = _weigh(text, candidates, score)
        taken = gap <= COMMAND_GAP and (lead is None or lead >= COMMAND_MARGIN)
        return CommandWeighing(candidate, gap, lead, taken, len(candidates))

    def near_commands(self) -> NearCommands:
        """The home's command sentences for ``heard_command``, built once per parser (about a
        second; a reload brings a new parser and so the new home's sentences)."""
        with _NEAR_LOCK:
            near = _NEAR.get(self.parser)
            if near is None:
                from edge_assistant.stt.near import build_near_commands

                near = _NEAR[self.parser] = build_near_commands(self.parser.catalog, self.parser.home)
            return near

    def warm_up(self, *, heard: bool = False) -> None:
        """Parse one template sentence so that the first real command does not pay hassil's first
        call; ``heard``: speech will be handled, so build what ``heard_command`` searches too, and
        give the memory that build freed back to the system."""
        self.parser.parse("cancel the timer")
        if heard and self.near_most:
            self.near_commands()
            _release_freed_heap()

    async def handle_async(
        self,
        text: str,
        *,
        dialogue: Dialogue | None = None,
        utterance_id: str | None = None,
        speak: bool = True,
        heard: bool = False,
        score: Scorer | None = None,
        hypotheses: Sequence[str] = (),
    ) -> Turn:
        """One turn: parse (in a worker thread), dispatch under the policy, reply, speak.

        ``heard``: the text is a speech engine's, so the model path needs ``heard_floor`` of
        confidence to act ("We should bend the fan's next timer" is no "next track"). ``score``
        weighs other texts on the utterance's audio: a sentence refused for a name the home lacks
        is handled as the name the audio says, when it does (``heard_name``), and a sentence that
        nothing or only the model acts on as the command of the home the audio says nearly as
        well, when there is one (``heard_command``). ``hypotheses``: the
        speech engine's other readings of the utterance; a number they hear otherwise is asked
        for ("What temperature?"), never acted on (``unsure_numbers``).

        A rejected parse goes to the dispatcher too: it answers "Sorry, there is no dishwasher"
        and takes "yes"/"no" as the answer to a confirmation waiting in ``dialogue``. Several
        commands in one utterance are acted on in the order spoken, each under the policy, with
        one reply ("Turned off the hallway light and locked the back gate").
        """
        dialogue = self.dialogue if dialogue is None else dialogue
        turn_id = utterance_id or uuid.uuid4().hex[:8]
        start = time.perf_counter()
        floor = self.heard_floor if heard else 0.0
        answering = dialogue.waiting()
        parse = partial(self.parse, min_confidence=floor)
        result = await asyncio.to_thread(parse, text, dialogue, unsure=unsure_numbers(text, hypotheses))
        if score is not None and (result.intent is None or result.source == "model"):
            named = await asyncio.to_thread(self.heard_name, text, result, score) if result.intent is None else None
            if named is None and not answering:  # an answer is taken as heard ("the bed light", "yes")
                named = await asyncio.to_thread(self.heard_command, text, result, score)
            if named is not None:
                text = named
                result = await asyncio.to_thread(parse, text, dialogue, unsure=unsure_numbers(text, hypotheses))
        timings = {"nlu": (time.perf_counter() - start) * 1000}
        actions: list[ActionResult] = []
        reply = ""
        if self.dispatcher is not None:
            begin = time.perf_counter()
            if result.commands:
                actions, reply = await self._dispatch_each(self.dispatcher, result.commands, turn_id, dialogue)
            else:
                actions = await self.dispatcher.dispatch(result, turn_id, dialogue)
                reply = summarize(actions)
            timings["dispatch"] = (time.perf_counter() - begin) * 1000
        if speak:
            await self.say(reply)
        return Turn(turn_id, result, actions, reply, {k: round(v, 2) for k, v in timings.items()})

    @staticmethod
    async def _dispatch_each(
        dispatcher: Dispatcher, commands: list[IntentResult], turn_id: str, dialogue: Dialogue
    ) -> tuple[list[ActionResult], str]:
        """Several commands of one utterance, in order, each under the policy; one reply for all.

        A command that needs confirmation is held alone while the others go ahead; when several
        do, one yes runs them all.
        """
        actions: list[ActionResult] = []
        replies: list[str] = []
        held: list[Confirmation] = []
        for command in commands:
            done = await dispatcher.dispatch(command, turn_id, dialogue)
            if dialogue.confirmation is not None:  # asked by this command: the next must not answer it
                held.append(dialogue.confirmation)
                dialogue.confirmation = None
            if command.intent is None:
                done = [a.model_copy(update={"reply": not_understood_reply(a.reply, command.text)}) for a in done]
            actions += done
            replies.append(summarize(done))
        if held:
            also = tuple(c for h in held for c in h.commands)[1:]
            dialogue.confirmation = replace(held[0], also=also)
        return actions, join_replies(replies)

    def handle(self, text: str, *, dialogue: Dialogue | None = None, speak: bool = True, heard: bool = False) -> Turn:
        """``handle_async`` for synchronous callers (on the assistant's own event loop)."""
        return self._run(self.handle_async(text, dialogue=dialogue, speak=speak, heard=heard))

    async def say(self, text: str) -> None:
        """Speak ``text`` with the speaker, if there is one and there is something to say."""
        if self.speaker is not None and text:
            await self.speaker.say(text)

    async def aclose(self) -> None:
        """Deliver queued actions and close the handlers' connections."""
        if self.dispatcher is not None:
            await self.dispatcher.aclose()

    def close(self) -> None:
        """``aclose`` for synchronous callers; the assistant's own loop is closed too."""
        self._run(self.aclose())
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        # One loop for the assistant's life: handler connections (MQTT, HTTP) belong to it.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _release_freed_heap() -> None:
    """Hand the heap that Python and C code freed back to the system (glibc keeps it for reuse:
    building the home's command automaton frees about 35 MB that the process would otherwise
    keep resident for its whole life). A no-op where the C library is not glibc."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others: nothing to trim this way
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)


def _weigh(text: str, candidates: Sequence[tuple[Hashable, str]], score: Scorer) -> tuple[str, float, float | None]:
    """``text`` and each (reading, candidate text) scored on the audio: the best candidate of the
    best reading, the nats by which the audio prefers ``text`` to it, and its lead over the best
    of any other reading (None when there is no other)."""
    heard, *scores = score([text, *(candidate for _, candidate in candidates)])
    best: dict[Hashable, tuple[float, str]] = {}
    for (reading, candidate), value in zip(candidates, scores, strict=True):
        if value > best.get(reading, (-float("inf"), ""))[0]:
            best[reading] = (value, candidate)
    ranked = sorted(best.values(), reverse=True)
    value, candidate = ranked[0]
    return candidate, heard - value, value - ranked[1][0] if len(ranked) > 1 else None


def _meaning(command: IntentResult) -> tuple[object, ...]:
    """What a command does, however it was named: its intent, targets and values."""
    values = sorted((key, str(value)) for key, value in command.slots.items() if key not in ("name", "area", "floor"))
    return (command.intent, tuple(sorted(command.targets)), tuple(values))
