"""Several commands in one utterance: where it splits, and how the parts become commands.

"Switch off the hallway light and lock the back gate" is two commands; the parser parses each part
on its own (templates, then the model) and lists them in ``IntentResult.commands``. A ``Splitter``
is built once per catalog and home and only decides on words:

- **Where.** At a joiner ("and", "then", "and also", "after that", a comma ...; the table is
  ``intents/<language>/joiners.yaml``), never inside a name of the home, a value of the catalog
  or words a catalog sentence joins ("the salt and pepper lamp", "black and white", "each and
  every") nor inside an amount ("two and a half minutes", "one hour and ten minutes"). So a
  template that holds the whole sentence can only be missed when a part is not understood: the
  parser then tries the whole sentence on the templates before it accepts the parts.
- **Not a command.** A part that neither starts like a request (a word that starts a catalog
  sentence, or one of ``request_starts``) nor names a device is the tail of the part before:
  "set the lights to black and white" with no such value stays one command.
- **One intent, several names.** A part that only names devices or places ("and the patio light",
  "and the hall blinds") is the command before it said again for them: the parser parses "turn
  off the patio light" and, when the intent and values agree, one command acts on both. A device
  word carries over to a bare place ("open the study and the hall blinds": the study's blinds).
- **Said again with a value.** "set the kitchen light to red and the porch light to blue": the
  second part takes the verb of the first.
- **Referring back.** "stop the vacuum and send it home": "it" is the vacuum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from edge_assistant.errors import IntentSchemaError
from edge_assistant.events import IntentResult
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, Catalog
from edge_assistant.nlu.extract import DOMAIN_WORDS
from edge_assistant.nlu.followup import ACTIONS, ASKING
from edge_assistant.nlu.normalize import words_to_digits
from edge_assistant.yamlfile import load_model

__all__ = ["TARGET_SLOTS", "Joiners", "Part", "Splitter", "combine", "joined", "joiners_table", "several", "spoken"]

# Slots that say which devices a command acts on; the others are its values.
TARGET_SLOTS = ("name", "area", "floor", "domain", "device_class")
_UNITS = r"hours?|hrs?|minutes?|mins?|seconds?|secs?"
_EXTRA_NOUNS = r"doors?|gates?"
# Words of a part that states only a value ("white", "fifty percent"), besides the catalog's values.
_VALUE_WORDS = frozenset(("to", "the", "a", "an", "at", "by", "and", "of", "percent", "degrees", "half", "quarter"))


class Joiners(BaseModel):
    """A language's words around several commands (``joiners.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    joiners: tuple[str, ...]
    fillers: tuple[str, ...] = ()
    determiners: tuple[str, ...] = ()
    trailers: tuple[str, ...] = ()
    refer_back: tuple[str, ...] = ()
    request_starts: tuple[str, ...] = ()


@cache
def joiners_table(language: str = "en") -> Joiners:
    """The joiner words of ``language`` (``intents/<language>/joiners.yaml``), read once."""
    path = Path(BUILTIN_CATALOG_DIR) / language / "joiners.yaml"
    if not path.is_file():
        raise IntentSchemaError(
            f"no word table joiners.yaml for language '{language}': add {path} (intents/en/joiners.yaml is the model)",
            path=str(path),
        )
    return load_model(path, Joiners, IntentSchemaError)


Kind = Literal["command", "target", "ellipsis"]


@dataclass(frozen=True)
class Part:
    """One command's words: ``text`` as said, ``sentence`` as parsed.

    ``kind``: "command" (a command of its own), "target" (only devices or places: the command
    before, said again for them; joins it when intent and values agree), "ellipsis" (devices and
    a value with the verb of the command before: try ``text`` on the templates first).
    """

    text: str
    sentence: str
    kind: Kind = "command"
    start: int = 0
    end: int = 0


def _alternation(phrases: Iterable[str]) -> str:
    return "|".join(re.escape(p) for p in sorted({p for p in phrases if p}, key=len, reverse=True))


class Splitter:
    """Splits an utterance into the parts of its commands (see the module docstring)."""

    def __init__(
        self, catalog: Catalog, home: Home, first_words: Iterable[str] = (), templates: Iterable[str] = ()
    ) -> None:
        words = joiners_table(catalog.language)
        entities = {n.lower() for e in home.entities for n in e.names}
        places = {n.lower() for a in home.areas for n in (a.name, *a.aliases)}
        places |= {n.lower() for f in home.floors for n in (f.name, *f.aliases)}
        self._entities, self._places = entities, places
        joiner = _alternation(words.joiners)
        self._joiner = re.compile(rf"\s*[,;]\s*(?:(?:{joiner}|also)\s+)?|\s+(?:{joiner})\s+")
        joining = re.compile(rf"[,;]|\b(?:{joiner}|also)\b")
        values = {str(v).lower() for s in catalog.intents.values() for slot in s.slots.values() for v in slot.values}
        values |= {str(a).lower() for s in catalog.intents.values() for slot in s.slots.values() for a in slot.aliases}
        literal = _literal_joins(templates, words.joiners)
        said = entities | places | values | {f for f in words.fillers if " " in f}
        self._protected = sorted({p for p in said if joining.search(p)} | literal)
        noun = "|".join([*(pattern for pattern, _, _ in DOMAIN_WORDS), _EXTRA_NOUNS])
        det = _alternation(words.determiners)
        known = _alternation(entities | places)
        core = rf"(?:(?P<known>{known})s?(?:\s+(?P<noun>{noun}))?|(?P<bare>{noun}))" if known else rf"(?P<bare>{noun})"
        self._noun_end = re.compile(rf"(?<!\S)(?:{noun})$")
        self._mention = re.compile(rf"(?<!\S)(?:(?:{det})\s+)?{core}(?!\S)")
        led = rf"(?:(?:{det})\s+(?:(?:{known})s?|{noun})|(?:{known})s?)" if known else rf"(?:{det})\s+(?:{noun})"
        self._led = re.compile(rf"(?:{led})(?!\S)")
        self._trailer = re.compile(rf"(?:\s+(?:{_alternation(words.trailers)}))*")
        self._place = re.compile(rf"\s+(?:in|on)\s+(?:the\s+)?(?:{_alternation(places)})") if places else None
        self._filler = re.compile(rf"^(?:(?:{_alternation(words.fillers)})\s+)*")
        self._refer = re.compile(rf"\b(?:{_alternation(words.refer_back)})\b")
        self._starts = frozenset(first_words) | frozenset(words.request_starts)
        self._value_words = {w for v in values for w in v.split()} | _VALUE_WORDS

    def split(self, text: str) -> list[Part]:
        """The parts of ``text``'s commands, in order; fewer than two when it is one command.

        Offsets of the parts are in ``spoken(text)``.
        """
        clean = spoken(text)
        low = clean.lower()
        spans = self._spans(low)
        if len(spans) < 2:
            return []
        merged, kinds = _merge_tails(spans, [self._kind(low[s:e]) for s, e in spans])
        if len(merged) < 2:
            return []
        return self._parts(clean, merged, kinds)

    def _spans(self, low: str) -> list[tuple[int, int]]:
        """Stretches of ``low`` between the joiners that may split it."""
        protected = [
            (m.start(), m.end())
            for phrase in self._protected
            for m in re.finditer(rf"(?<!\S){re.escape(phrase)}(?!\S)", low)
        ]
        spans: list[tuple[int, int]] = []
        begin = 0
        for cut in self._joiner.finditer(low):
            if any(s < cut.end() and cut.start() < e for s, e in protected) or _in_amount(low, cut):
                continue
            if cut.start() > begin:
                spans.append((begin, cut.start()))
            begin = cut.end()
        if begin < len(low):
            spans.append((begin, len(low)))
        return spans

    def _kind(self, part: str) -> Kind | None:
        """What a part is; None for the tail of the part before (no request, no device)."""
        words = self._filler.sub("", part)
        if not words or " " not in words:
            return None
        if self._bare(words):
            return "target"
        if self._led.match(words):
            return "ellipsis"
        first = words.split()[0]
        return "command" if _verb(first) & self._starts and not self._only_values(words) else None

    def _bare(self, words: str) -> bool:
        """True for a part that only names devices or places ("the patio light", "the hall blinds")."""
        led = self._led.match(words)
        mention = self._mention.match(words)
        if led is None or mention is None:
            return False
        rest = words[mention.end() :]
        if self._place is not None:
            rest = self._place.sub("", rest, count=1)
        return self._trailer.fullmatch(rest) is not None

    def _only_values(self, words: str) -> bool:
        return all(w.isdigit() or w in self._value_words for w in words_to_digits(words).split())

    def _parts(self, clean: str, spans: list[tuple[int, int]], kinds: list[Kind]) -> list[Part]:
        parts: list[Part] = []
        for (start, end), kind in zip(spans, kinds, strict=True):
            text = clean[start:end]
            heads = [p for p in parts if p.kind != "target"]
            said = self._last_mention(heads[-1].sentence) if heads else None
            if kind == "target" and said is None:
                if not parts:  # names with no command before them: a command of their own
                    parts.append(Part(text, text, "command", start, end))
                    continue
                prev = parts.pop()  # no device in the command before to stand in for: one command
                merged = clean[prev.start : end]
                parts.append(Part(merged, merged, prev.kind, prev.start, end))
                continue
            if kind == "ellipsis" and said is not None:
                sentence = heads[-1].sentence[: said.start()] + text
            elif kind == "command" and heads:
                sentence = self._refer_back(text, heads[-1].sentence)
            else:
                sentence, kind = text, ("target" if kind == "target" else "command")
            parts.append(Part(text, sentence, kind, start, end))
        return self._said_again(parts) if len(parts) > 1 else []

    def _last_mention(self, sentence: str) -> re.Match[str] | None:
        found = list(self._mention.finditer(sentence.lower()))
        return found[-1] if found else None

    def _refer_back(self, text: str, before: str) -> str:
        """ "send it home" after "stop the vacuum": "send the vacuum home"."""
        low = text.lower()
        said = self._last_mention(before)
        pronoun = self._refer.search(low)
        if said is None or pronoun is None or any(self._names_a_device(m, low) for m in self._mention.finditer(low)):
            return text
        said_before = low[: pronoun.start()].split()
        if said_before and said_before[-1] in ASKING:
            return text  # "and what time is it": a question's "it" is no device
        return self._refer.sub(before[said.start() : said.end()], low, count=1)

    def _names_a_device(self, mention: re.Match[str], low: str) -> bool:
        """Whether a mention names a device: not a kind word said as the verb ("switch it off")."""
        return mention.group(0) not in ACTIONS or bool(self._filler.sub("", low[: mention.start()]).strip())

    def _said_again(self, parts: list[Part]) -> list[Part]:
        """Each target part as its command said again: the verb and values of its head, its own devices.

        A bare place takes the device word of the nearest device after it (else before it): "open
        the study and the hall blinds" is the study blinds and the hall blinds.
        """
        out = list(parts)
        i = 0
        while i < len(out):
            j = i + 1
            while j < len(out) and out[j].kind == "target":
                j += 1
            if j - i > 1:
                self._group(out, list(range(i, j)))
            i = j
        return out

    def _noun(self, mention: re.Match[str] | None) -> str | None:
        """The device word of a mention: "blinds" of "the hall blinds", "light" of "the porch light"."""
        if mention is None:
            return None
        known = mention.group("known") or ""
        own = self._noun_end.search(known) if known in self._entities else None
        return mention.group("noun") or mention.group("bare") or (own.group(0) if own else None)

    def _group(self, parts: list[Part], group: list[int]) -> None:
        head = parts[group[0]]
        said = self._last_mention(head.sentence)
        assert said is not None  # a target part follows only a head that names a device
        mentions = [said] + [self._mention.match(self._filler.sub("", parts[j].text.lower())) for j in group[1:]]
        nouns = [self._noun(m) for m in mentions]
        items = [head.sentence[said.start() : said.end()]] + [parts[j].text for j in group[1:]]
        for k, mention in enumerate(mentions):
            if mention is not None and _place_only(mention, self._places):
                noun = next((n for n in nouns[k + 1 :] if n), None) or next((n for n in reversed(nouns[:k]) if n), None)
                if noun:
                    items[k] = _with_noun(items[k], mention, noun)
        before, after = head.sentence[: said.start()], head.sentence[said.end() :]
        parts[group[0]] = replace(head, sentence=before + items[0] + after)
        for k, j in enumerate(group[1:], start=1):
            parts[j] = replace(parts[j], sentence=before + items[k] + after)


def _with_noun(item: str, mention: re.Match[str], noun: str) -> str:
    """ "the study" + "blinds": "the study blinds" (the device word after the place)."""
    low = item.lower()
    at = low.find(mention.group("known"))
    cut = at + len(mention.group("known")) if at >= 0 else len(item)
    return f"{item[:cut]} {noun}{item[cut:]}"


def spoken(text: str) -> str:
    """``text`` with its spaces made single, the string the offsets of ``Part`` refer to."""
    clean = " ".join(text.split())
    return clean if len(clean.lower()) == len(clean) else clean.lower()


def _literal_joins(templates: Iterable[str], joiners: Sequence[str]) -> set[str]:
    """Words joined inside a catalog sentence ("each and every", "rock and roll"): never split there.

    Slots, rules and alternatives' brackets are taken out of the template first; a joiner next to
    a slot ("{hours} hours [and] {minutes} minutes") is an amount, which ``_in_amount`` keeps.
    """
    found: set[str] = set()
    # A lookahead, so that overlapping phrases ("a and b and c") are all found.
    pattern = re.compile(rf"(?=(?<![\w'])([a-z']+ (?:{_alternation(joiners)}) [a-z']+)(?![\w']))")
    for template in templates:
        plain = re.sub(r"\{[^}]*\}|<[^>]*>", " \x00 ", template.lower())
        plain = " ".join(re.sub(r"[\[\]()|]", " ", plain).split())
        found.update(match.group(1) for match in pattern.finditer(plain))
    return found


def _place_only(mention: re.Match[str], places: set[str]) -> bool:
    known = mention.group("known")
    return bool(known) and known in places and not mention.group("noun")


def _merge_tails(spans: list[tuple[int, int]], kinds: list[Kind | None]) -> tuple[list[tuple[int, int]], list[Kind]]:
    """Join each part that is no command to the part before it (the first one to the part after)."""
    out: list[tuple[int, int]] = []
    out_kinds: list[Kind] = []
    pending: int | None = None  # start of leading tails with no part before them
    for (start, end), kind in zip(spans, kinds, strict=True):
        if kind is None:
            if out:
                out[-1] = (out[-1][0], end)
            elif pending is None:
                pending = start
            continue
        if pending is not None:
            start, pending = pending, None
        out.append((start, end))
        out_kinds.append(kind)
    if pending is not None and out:
        out[0] = (pending, out[0][1])
    return out, out_kinds


def _verb(word: str) -> set[str]:
    """A word and, for an "-ing" word, the verbs it may come from: switching, closing, shutting."""
    if not word.endswith("ing") or len(word) < 6:
        return {word}
    stem = word[:-3]
    return {word, stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem}


def _number_word(word: str) -> bool:
    return word.isdigit() or words_to_digits(word).isdigit() or word in ("hundred", "thousand")


def _in_amount(low: str, cut: re.Match[str]) -> bool:
    """ "two and a half", "one hour and ten minutes", "one hundred and twenty": no split."""
    if low[cut.start() : cut.end()].strip() != "and":
        return False
    before = low[: cut.start()].split()
    after = low[cut.end() :].split()
    if not before or not after:
        return False
    if after[0] in ("half", "quarter") or (after[0] in ("a", "an") and after[1:2] in (["half"], ["quarter"])):
        return True
    return _number_word(after[0]) and (_number_word(before[-1]) or re.fullmatch(_UNITS, before[-1]) is not None)


def _same_values(a: IntentResult, b: IntentResult) -> bool:
    return a.intent == b.intent and {k: v for k, v in a.slots.items() if k not in TARGET_SLOTS} == {
        k: v for k, v in b.slots.items() if k not in TARGET_SLOTS
    }


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _joined_targets(a: IntentResult, b: IntentResult, home: Home) -> dict[str, Any]:
    """Target slots of one command acting on the targets of both: lists where they differ.

    When more than one kind of target slot differs, the names of every target say it exactly.
    """
    ta = {k: a.slots[k] for k in TARGET_SLOTS if k in a.slots}
    tb = {k: b.slots[k] for k in TARGET_SLOTS if k in b.slots}
    differ = [k for k in ta if ta[k] != tb.get(k)]
    if ta.keys() == tb.keys() and len(differ) <= 1:
        joined = dict(ta)
        for key in differ:
            joined[key] = _as_list(ta[key]) + [v for v in _as_list(tb[key]) if v not in _as_list(ta[key])]
        return joined
    names = {e.id: e.name for e in home.entities}
    targets = a.targets + [t for t in b.targets if t not in a.targets]
    return {"name": [names[t] for t in targets if t in names]}


def joined(a: IntentResult, b: IntentResult, text: str, home: Home) -> IntentResult:
    """One command of ``a``'s intent and values acting on the targets of both."""
    slots = {k: v for k, v in a.slots.items() if k not in TARGET_SLOTS}
    slots.update(_joined_targets(a, b, home))
    targets = a.targets + [t for t in b.targets if t not in a.targets]
    return a.model_copy(
        update={
            "text": text,
            "slots": slots,
            "targets": targets,
            "confidence": min(a.confidence, b.confidence),
            "source": "model" if "model" in (a.source, b.source) else a.source,
            "latency_ms": round(a.latency_ms + b.latency_ms, 3),
        }
    )


def combine(text: str, parts: Sequence[Part], results: Sequence[IntentResult], home: Home) -> list[IntentResult]:
    """The commands of an utterance from its parts' results, in the order spoken.

    A part said without a verb of its own whose result has the intent and values of the command
    before it joins that command (one intent, several names). One question can wait for its answer:
    the last command that asks (for a value, or which device) keeps its question, and an earlier
    one that asks too is rejected instead, as its question would never be answered.
    """
    commands: list[IntentResult] = []
    joined_from: list[int] = []  # where in ``text`` each command starts
    for part, result in zip(parts, results, strict=True):
        last = commands[-1] if commands else None
        if part.kind != "command" and last is not None and last.intent and result.intent and _same_values(last, result):
            commands[-1] = joined(last, result, text[joined_from[-1] : part.end], home)
            continue
        commands.append(result)
        joined_from.append(part.start)
    asking = [i for i, command in enumerate(commands) if command.awaiting]
    for i in asking[:-1]:
        command = commands[i]
        reason = f"one question at a time, so '{command.text}' was left ({command.reason})"
        commands[i] = command.model_copy(update={"awaiting": None, "reason": reason})
    return commands


def several(text: str, commands: Sequence[IntentResult]) -> IntentResult:
    """The result of an utterance with several commands: the first command's fields, all of them listed."""
    if len(commands) == 1:
        return commands[0].model_copy(update={"text": text})
    return commands[0].model_copy(update={"text": text, "commands": list(commands)})
