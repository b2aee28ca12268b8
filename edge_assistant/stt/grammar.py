"""The speech grammar: the intent catalog's sentence templates and the home's names as a word graph.

One source of truth: the same hassil data the template matcher uses (``nlu.templates``) is turned
into a graph of spoken words, compiled to a minimal automaton for pocketsphinx (``stt.fsa``) or
used as a vocabulary for Vosk. Lists become their spoken values (home names, areas, floors, number
words for ranges); sentences with a wildcard (a free-text timer name) are left out, since a closed
grammar cannot hold them. A word the engine cannot pronounce drops the branch it is on, so the
grammar only holds what can be heard.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from hassil import Intents
from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sequence, TextChunk
from hassil.intents import RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.sample import sample_expression

from edge_assistant.answers import SPOKEN_ANSWERS
from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog
from edge_assistant.nlu.templates import build_intents_dict, home_slot_lists
from edge_assistant.nlu.words import number_table
from edge_assistant.stt.bias import home_names

__all__ = ["CommandGrammar", "build_command_grammar", "number_words", "spoken_words"]

_MAX_PERMUTED = 4
_MAX_GLUED = 400
_SYMBOLS = {"%": "percent", "°": "degrees"}

# A node of the word graph: a word, ("seq", [...]), ("alt", [...], optional) or ("ref", name).
Node = Any


def number_words(value: int) -> str:
    """Words for 0..9999 ("forty two"), as a speech engine hears a number (``intents/en/numbers.yaml``)."""
    table = number_table()
    if value < 0:
        return f"{table.minus} {number_words(-value)}"
    if value < 20:
        return table.word(value)
    if value < 100:
        tens, ones = divmod(value, 10)
        return table.word(tens * 10) + ("" if ones == 0 else " " + table.word(ones))
    scale = max((v for v in table.scales.values() if v <= value), default=0)
    if scale == 0:
        raise ValueError(f"no scale word for {value} in the number table")
    count, rest = divmod(value, scale)
    word = next(w for w, v in table.scales.items() if v == scale)
    return f"{number_words(count)} {word}" + ("" if rest == 0 else " " + number_words(rest))


def spoken_words(text: str) -> list[str]:
    """Split template text into the words a person says: lower case, digits and "%" spelled out."""
    words: list[str] = []
    for token in re.findall(r"[0-9]+|[%°]|[^\s%°/,.!?;:()\[\]{}<>|\"0-9]+", text.lower()):
        if token.isdigit():
            words.extend(number_words(int(token)).split())
        elif token in _SYMBOLS:
            words.append(_SYMBOLS[token])
        elif any(c.isalpha() for c in token):
            words.extend(part for part in token.strip("'-").split("-") if part)
    return words


@dataclass
class CommandGrammar:
    """The word graph of all catalog sentences: ``rules`` by name, ``public`` the top-level rules.

    ``names`` are the home's names as written (entities, areas, floors and their aliases) and
    ``examples`` the catalog's first example sentence of each intent: what an open-vocabulary
    engine is biased to (``stt.bias``).
    """

    rules: dict[str, Node] = field(default_factory=dict)
    public: list[str] = field(default_factory=list)
    names: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def vocabulary(self) -> set[str]:
        """Every word that some sentence of the grammar contains."""
        found: set[str] = set()
        for node in self.rules.values():
            _collect(node, found)
        return found


def _collect(node: Node, found: set[str]) -> None:
    if isinstance(node, str):
        found.add(node)
    elif node[0] in ("seq", "alt"):
        for child in node[1]:
            _collect(child, found)


class _Builder:
    """Turns hassil expressions into the word graph, one rule per expansion rule and slot list."""

    def __init__(self, intents: Intents, slot_lists: dict[str, SlotList]) -> None:
        self.intents = intents
        self.slot_lists = {**intents.slot_lists, **slot_lists}
        self.grammar = CommandGrammar()

    def rule_name(self, kind: str, name: str) -> str:
        return kind + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)

    def expression(self, expr: Expression, local_rules: dict[str, Any]) -> Node | None:
        if isinstance(expr, TextChunk):
            return ("seq", spoken_words(expr.text))
        if isinstance(expr, Permutation):
            if len(expr.items) > _MAX_PERMUTED:
                return None
            orders = [Sequence(list(order)) for order in itertools.permutations(expr.items)]
            return self.expression(Alternative(list(orders)), local_rules)
        if isinstance(expr, Alternative):
            items = [n for n in (self.expression(i, local_rules) for i in expr.items) if n is not None]
            return ("alt", items, expr.is_optional) if items else None
        if isinstance(expr, Sequence):
            items = [self.run(run, local_rules) for run in self.word_runs(expr.items, local_rules)]
            return None if any(i is None for i in items) else ("seq", items)
        if isinstance(expr, ListReference):
            return self.list_ref(expr.list_name)
        if isinstance(expr, RuleReference):
            return self.rule_ref(expr.rule_name, local_rules)
        return None

    def edge(self, expr: Expression, local_rules: dict[str, Any], last: bool) -> bool:
        """Whether ``expr`` surely starts (ends, with ``last``) at a word boundary."""
        if isinstance(expr, TextChunk):
            text = expr.original_text or ""
            return not text or (text.endswith(" ") if last else text.startswith(" "))
        if isinstance(expr, Alternative):
            return all(self.edge(item, local_rules, last) for item in expr.items)
        if isinstance(expr, Sequence) and not isinstance(expr, Permutation):
            return not expr.items or self.edge(expr.items[-1 if last else 0], local_rules, last)
        if isinstance(expr, RuleReference):
            body = local_rules.get(expr.rule_name) or self.intents.expansion_rules.get(expr.rule_name)
            return body is None or self.edge(body.expression, local_rules, last)
        if isinstance(expr, ListReference):
            # Numbers are spoken as words of their own, whatever is glued to the digits.
            return isinstance(self.slot_lists.get(expr.list_name), RangeSlotList)
        return isinstance(expr, Permutation)

    def word_runs(self, items: list[Expression], local_rules: dict[str, Any]) -> list[list[Expression]]:
        """Split a sequence where words end: "lamp[s]" stays one run, since it is one spoken word."""
        runs: list[list[Expression]] = []
        for item in items:
            glued = runs and not self.edge(runs[-1][-1], local_rules, True) and not self.edge(item, local_rules, False)
            if glued:
                runs[-1].append(item)
            else:
                runs.append([item])
        return runs

    def run(self, run: list[Expression], local_rules: dict[str, Any]) -> Node | None:
        if len(run) == 1:
            return self.expression(run[0], local_rules)
        rules = {**self.intents.expansion_rules, **local_rules}
        texts = list(
            itertools.islice(sample_expression(Sequence(run), self.slot_lists, rules, language="en"), _MAX_GLUED + 1)
        )
        if len(texts) > _MAX_GLUED:
            items = [self.expression(i, local_rules) for i in run]
            return None if any(i is None for i in items) else ("seq", items)
        return ("alt", [("seq", spoken_words(t)) for t in sorted(set(texts))], False) if texts else None

    def rule_ref(self, rule: str, local_rules: dict[str, Any]) -> Node | None:
        body = local_rules.get(rule) or self.intents.expansion_rules.get(rule)
        if body is None:
            return None
        local = rule in local_rules
        name = self.rule_name("local" if local else "rule", rule + (str(id(body)) if local else ""))
        if name not in self.grammar.rules:
            self.grammar.rules[name] = ("alt", [], False)  # guards against recursion while building
            node = self.expression(body.expression, local_rules)
            if node is None:
                del self.grammar.rules[name]
                return None
            self.grammar.rules[name] = node
        return ("ref", name)

    def list_ref(self, list_name: str) -> Node | None:
        name = self.rule_name("list", list_name)
        if name in self.grammar.rules:
            return ("ref", name)
        node = self.slot_list(self.slot_lists.get(list_name))
        if node is None:
            return None
        self.grammar.rules[name] = node
        return ("ref", name)

    def numbers(self) -> Node:
        """Spoken numbers 0..999 built from parts, far smaller than listing each value of a range.

        It accepts a few values outside a slot's range; the parser validates the range.
        """
        if "number" not in self.grammar.rules:
            table = number_table()
            ones = ("alt", [table.word(v) for v in range(1, 10)], False)
            tens = ("alt", [table.word(v) for v in range(20, 100, 10)], False)
            below_100 = ("alt", [*(table.word(v) for v in range(20)), ("seq", [tens, ("alt", [ones], True)])], False)
            hundred = next(w for w, v in table.scales.items() if v == 100)
            rest = ("alt", [("seq", [("alt", [table.conjunction], True), below_100])], True)
            hundreds = ("seq", [ones, hundred, rest])
            self.grammar.rules["number"] = ("alt", [below_100, hundreds], False)
        return ("ref", "number")

    def slot_list(self, slot_list: SlotList | None) -> Node | None:
        if isinstance(slot_list, RangeSlotList):
            return self.numbers()
        if isinstance(slot_list, TextSlotList) and not isinstance(slot_list, WildcardSlotList):
            items = [n for n in (self.expression(v.text_in, {}) for v in slot_list.values) if n is not None]
            return ("alt", items, False) if items else None
        return None


def build_command_grammar(catalog: Catalog, home: Home) -> CommandGrammar:
    """The grammar of every sentence the catalog's intents accept, with the home's names."""
    data = build_intents_dict(catalog)
    intents = Intents.from_dict(data)
    builder = _Builder(intents, dict(home_slot_lists(home)))
    builder.grammar.names = home_names(home)
    builder.grammar.examples = tuple(spec.examples[0].text for spec in catalog.intents.values() if spec.examples)
    for intent_name, intent in intents.intents.items():
        if intent_name not in catalog.intents:
            continue
        sentences: list[Node] = []
        for block in intent.data:
            rules = dict(block.expansion_rules)
            for sentence in block.sentences:
                if any(n in block.wildcard_list_names for n in sentence.list_names(intents.expansion_rules)):
                    continue
                node = builder.expression(sentence.expression, rules)
                if node is not None:
                    sentences.append(node)
        if sentences:
            rule = builder.rule_name("intent", intent_name)
            builder.grammar.rules[rule] = ("alt", sentences, False)
            builder.grammar.public.append(rule)
    # "Are you sure?" must be answerable by voice (the dispatcher takes these as yes or no).
    answers: list[Node] = [("seq", spoken_words(p)) for p in SPOKEN_ANSWERS]
    builder.grammar.rules["answer"] = ("alt", answers, False)
    builder.grammar.public.append("answer")
    values = _value_answers(builder, catalog)
    if values is not None:
        builder.grammar.rules["value_answer"] = values
        builder.grammar.public.append("value_answer")
    return builder.grammar


_UNITS = {"hours": ["hours", "hour"], "minutes": ["minutes", "minute"], "seconds": ["seconds", "second"]}


def _value_answers(builder: _Builder, catalog: Catalog) -> Node | None:
    """Answers to "What brightness or colour?" / "For how long?": the values an intent may lack.

    The parser takes them only while such a question waits (``[nlu] follow_up_s``), so noise
    forced onto "red" does nothing at other times.
    """
    words: dict[str, Node] = {}
    for spec in catalog.intents.values():
        for name in spec.require_one_of:
            slot = spec.slots[name]
            if slot.type == "enum":
                for value in (*slot.values, *slot.aliases):
                    words.setdefault(value, ("seq", spoken_words(value)))
            elif name in _UNITS:
                units = ("alt", [("seq", [("alt", _UNITS[n], False)]) for n in sorted(_UNITS)], False)
                words.setdefault("duration", ("seq", [builder.numbers(), units]))
            elif slot.type in ("int", "number") and (slot.max is None or slot.max <= 100):
                unit = "degrees" if name == "temperature" else "percent"
                words.setdefault(unit, ("seq", [builder.numbers(), unit]))
    if not words:
        return None
    lead = ("alt", [("seq", ["make", "it"]), ("seq", ["set", "it", "to"]), "to"], True)
    return ("seq", [lead, ("alt", list(words.values()), False)])
