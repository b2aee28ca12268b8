"""Commands the ear nearly heard: the home's sentences nearest in letters to a heard sentence.

In noise an open-vocabulary engine hears a command of the home a few letters off ("Cancel all
the tires", "Time for status", "Turn on Standlight") and neither the templates nor the model can
act on it. The sentences of the command grammar (``stt.grammar``, the catalog's templates with
the home's names) nearest to what was heard are candidates that the engine weighs on the same
audio (``Transcript.score``); ``Assistant.heard_command`` decides. This module only finds them and
writes them as the engine writes (digits, the home's names as written), so that the engine's
score of a candidate compares with its score of what it heard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog
from edge_assistant.nlu.names import slip_cost
from edge_assistant.nlu.normalize import words_to_digits
from edge_assistant.stt.bias import respell_names
from edge_assistant.stt.fsa import Automaton, compile_grammar
from edge_assistant.stt.grammar import build_command_grammar, spoken_words

__all__ = ["NearCommands", "build_near_commands"]

# The most letters that may change: a share of the letters heard, at least MIN_COST and at most
# MAX_COST. "Turn on Standlight" is 3 from "turn on standing light", "Set the TV while you to 30
# percent" 5 from "... volume ..."; the audio has preferred no candidate further off (BENCHMARKS.md,
# "Commands the ear nearly heard"), and the search grows with the budget.
MAX_SHARE = 0.4
MIN_COST = 2.0
MAX_COST = 6.0
_END = re.compile(r"[.?!]+$")


@dataclass(frozen=True)
class NearCommands:
    """The home's command sentences as an automaton, and the names the engine writes as written."""

    automaton: Automaton
    names: tuple[str, ...]

    def near(self, text: str, most: int) -> list[str]:
        """Up to ``most`` command sentences of the home nearest to ``text``, nearest first, each
        written as the speech engine writes ("Cancel all timers", "Set the timer for 5 minutes");
        ``text`` itself is never among them."""
        words = spoken_words(text)
        if not words:
            return []
        budget = min(MAX_COST, max(MIN_COST, MAX_SHARE * sum(len(w) for w in words)))
        found = self.automaton.nearest(words, most + 1, budget, slip_cost)
        said = tuple(words)
        return [self.write(sentence, text) for _, sentence in found if sentence != said][:most]

    def write(self, words: tuple[str, ...], heard: str) -> str:
        """``words`` of the grammar as the engine wrote ``heard``: its words' case where they are
        the same words, digits, the home's names as written, its first capital and end mark."""
        cased = {w.lower().strip(",;:"): w.strip(",;:") for w in _END.sub("", heard).split()}
        text = respell_names(words_to_digits(" ".join(cased.get(w, w) for w in words)), self.names)
        if text and heard[:1].isupper():
            text = text[0].upper() + text[1:]
        end = _END.search(heard.strip())
        return text + (end.group(0) if end else "")


def build_near_commands(catalog: Catalog, home: Home) -> NearCommands:
    """The commands of ``catalog`` on ``home`` (no yes/no or bare-value answers: those answer a
    question, and a question waiting takes what was heard as it is)."""
    grammar = build_command_grammar(catalog, home)
    commands = replace(grammar, public=[rule for rule in grammar.public if rule.startswith("intent")])
    return NearCommands(compile_grammar(commands), grammar.names)
