"""The speech grammar built from the intent catalog and the home, and its minimal automaton."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.stt.fsa import Automaton, compile_grammar
from edge_assistant.stt.grammar import CommandGrammar, build_command_grammar, number_words, spoken_words

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def grammar(example_home_path: Path) -> CommandGrammar:
    """The grammar of the built-in catalog with the example home."""
    return build_command_grammar(load_catalog([BUILTIN_CATALOG_DIR]), load_home(example_home_path))


@pytest.fixture(scope="module")
def automaton(grammar: CommandGrammar) -> Automaton:
    """Its minimal automaton."""
    return compile_grammar(grammar)


@pytest.mark.parametrize(("value", "words"), [(0, "zero"), (7, "seven"), (21, "twenty one"), (100, "one hundred")])
def test_number_words(value: int, words: str) -> None:
    """Numbers are spelled the way they are spoken."""
    assert number_words(value) == words


def test_spoken_words_spell_digits_and_symbols() -> None:
    """Template text becomes the words a person says."""
    assert spoken_words("Set it to 40%!") == ["set", "it", "to", "forty", "percent"]


def test_vocabulary_holds_the_homes_names(grammar: CommandGrammar) -> None:
    """Entity, alias and area names of the home are in the grammar (one source of truth)."""
    assert {"porch", "thermostat", "bedside", "lounge", "rover"} <= grammar.vocabulary()


@pytest.mark.parametrize(
    "sentence",
    [
        "turn on the kitchen light",
        "turn off the lights in the study",
        "set the porch light to forty percent",
        "set the study thermostat to twenty one degrees",
        "what is the temperature in the study",
        "open the garage door",
        "lock the front door",
    ],
)
def test_catalog_commands_are_sentences_of_the_automaton(automaton: Automaton, sentence: str) -> None:
    """Commands the template matcher accepts are whole sentences of the speech grammar."""
    assert automaton.accepts(sentence.split())


@pytest.mark.parametrize(
    "sentence",
    ["turn on the", "what is the weather like tomorrow", "turn on the dishwasher", "kitchen light turn on the"],
)
def test_other_word_sequences_are_not_sentences(automaton: Automaton, sentence: str) -> None:
    """Partial commands, off-topic speech and unknown devices are not in the grammar."""
    assert not automaton.accepts(sentence.split())


def test_automaton_is_small_enough_to_decode_fast(automaton: Automaton) -> None:
    """Minimised, the whole catalog fits in a few thousand states (pocketsphinx's JSGF made ~100k)."""
    assert len(automaton.arcs) < 5000


def test_unknown_words_drop_their_branch(grammar: CommandGrammar) -> None:
    """Words an engine cannot pronounce remove only the sentences that need them."""
    automaton = compile_grammar(grammar, known=lambda w: w != "porch")
    assert not automaton.accepts(["turn", "on", "the", "porch", "light"])
    assert automaton.accepts(["turn", "on", "the", "kitchen", "light"])


def test_fsg_has_the_filler_loop_and_wake_prefix(automaton: Automaton) -> None:
    """The FSG text carries the filler words and an optional wake phrase before commands."""
    fsg = automaton.to_fsg(["phn_aa", "phn_b"], 0.2, ["hey", "jarvis"])
    assert fsg.startswith("FSG_BEGIN") and fsg.rstrip().endswith("FSG_END")
    assert " phn_aa" in fsg and " jarvis" in fsg


@pytest.mark.parametrize(
    "sentence", ["red", "make it lavender", "fifty percent", "set it to twenty percent", "ten minutes", "to two hours"]
)
def test_answers_to_a_value_question_are_sentences(automaton: Automaton, sentence: str) -> None:
    """ "What brightness or colour?" / "For how long?" can be answered by voice in grammar mode."""
    assert automaton.accepts(sentence.split())
