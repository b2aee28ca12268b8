"""The language's word tables (intents/en/*.yaml): one table of number words read by text
normalisation, clock times and the speech grammar; timer and domain words as data."""

from datetime import datetime
from pathlib import Path

import pytest

from edge_assistant.errors import IntentSchemaError
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.timeexpr import clock_command, only_timer_words
from edge_assistant.nlu.words import NumberWords, domain_table, number_table, timer_table, words_dir
from edge_assistant.stt.grammar import number_words
from edge_assistant.yamlfile import load_model

pytestmark = pytest.mark.unit


def test_every_number_the_grammar_speaks_is_read_back() -> None:
    """The speech grammar's words for a number normalise back to that number: one table for both."""
    values = [*range(0, 200), 999, 1000, 1005, 2019, 9999]
    assert [normalize_text(number_words(v)) for v in values] == [str(v) for v in values]


def test_clock_minutes_come_from_the_number_table() -> None:
    """ "seven o five pm" reads "o" and "five" from the table: 19:05, 35 minutes after 18:30."""
    found = clock_command("turn on the porch light at seven o five pm", datetime(2026, 11, 26, 18, 30))
    assert found == ("turn on the porch light", 35 * 60)


def test_a_whole_and_a_fraction_stay_apart() -> None:
    """ "two and a half" keeps "and a half" for the amount reader instead of eating the "and"."""
    assert normalize_text("two and a half minutes") == "2 and a half minutes"


def test_the_tables_live_in_the_catalog_language_folder() -> None:
    """The English tables are data files in intents/en/, which the wheel carries with the catalog."""
    assert sorted(p.name for p in words_dir("en").glob("*.yaml")) == [
        "domain_words.yaml",
        "joiners.yaml",
        "numbers.yaml",
        "timer_words.yaml",
    ]


def test_timer_and_domain_words_are_read_from_data() -> None:
    """Timer words decide a plain timer; the domain table names a domain for a spoken word."""
    assert "wake" in timer_table().timer_words and only_timer_words("wake me up")
    assert (domain_table().domain_of("lamps"), domain_table().domain_of("drapes")) == ("light", "cover")


def test_a_language_without_tables_is_a_clear_error() -> None:
    """Asking for a language with no folder names the file to add and the model to copy."""
    with pytest.raises(IntentSchemaError, match=r"add .*xx/numbers\.yaml \(intents/en/numbers\.yaml"):
        number_table("xx")


def test_a_number_table_missing_a_unit_names_the_field(tmp_path: Path) -> None:
    """A table without a word for 13 is rejected with the file and what is missing."""
    text = (words_dir("en") / "numbers.yaml").read_text(encoding="utf-8").replace("thirteen: 13,", "")
    bad = tmp_path / "numbers.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(IntentSchemaError, match=r"missing \[13\]") as info:
        load_model(bad, NumberWords, IntentSchemaError)
    assert info.value.path == str(bad)
