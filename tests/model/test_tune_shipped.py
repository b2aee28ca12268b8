"""The shipped adapter for the default model: provenance, default pick-up, and what it understands."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_assistant.config import ModelSettings, Settings
from edge_assistant.home import load_home
from edge_assistant.modelstore import sha256_of
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.llm import LlamaModel
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.runtime import build_parser, resolve_lora_path, shipped_adapter
from tests.support.mapped import mappings_of

pytestmark = pytest.mark.model

BENCH_DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"

# Written for this test, not taken from the training phrasings or the benchmarks.
NATURAL = {
    "would you mind switching the porch light on": "HassTurnOn",
    "i'm done in the study, kill the lamp": "HassTurnOff",
    "the kitchen is way too bright": "HassLightSet",
    "get rover to tidy up the living room floor": "HassVacuumStart",
    "turn the tv right down, it's deafening": "HassSetVolumeRelative",
}
OUT_OF_SCOPE = (
    "what's the population of peru",
    "read me the latest headlines",
    "book me a dentist appointment on friday",
    "who wrote pride and prejudice",
    "how many miles is a marathon",
)


@pytest.fixture(scope="module")
def adapter(default_model_path: Path) -> Path:
    """The committed adapter of the default model (fails when it is missing)."""
    path = shipped_adapter(default_model_path)
    assert path is not None, "models/adapters/<default>.lora.gguf is missing"
    return path


@pytest.fixture(scope="module")
def tuned(adapter: Path, default_model_path: Path, example_home_path: Path) -> Iterator[Parser]:
    """Base + shipped adapter with the tuned prompt, model path only (no templates)."""
    model = LlamaModel(default_model_path, n_threads=2, lora_path=adapter)
    settings = ParserSettings(use_templates=False, tuned_prompt=True)
    yield Parser(load_catalog(), load_home(example_home_path), model, settings)
    model.close()


def test_provenance_matches_the_default_model(adapter: Path, default_model_path: Path) -> None:
    """The provenance file records the command, seed and the hash of the base it was tuned on."""
    record = json.loads(adapter.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["base_sha256"] == sha256_of(default_model_path)
    assert record["command"].startswith("edge-assistant tune") and isinstance(record["seed"], int)


def test_default_config_uses_the_shipped_adapter(adapter: Path, default_model_path: Path) -> None:
    """No lora_path configured + the default model = the shipped adapter; "none" turns it off."""
    assert resolve_lora_path(Settings(), default_model_path) == adapter
    assert resolve_lora_path(Settings(model=ModelSettings(lora_path="none")), default_model_path) is None


def test_default_parser_is_tuned(example_home_path: Path) -> None:
    """The runtime's parser for the default set-up understands a natural command on the model path."""
    parser = build_parser(Settings(), example_home_path)
    result = parser.parse("would you mind switching the porch light on")
    assert (result.intent, result.targets, result.source) == ("HassTurnOn", ["light.porch"], "model")


def test_natural_commands(tuned: Parser) -> None:
    """Unseen natural phrasings get the right intent on the model path."""
    got = {text: tuned.parse(text).intent for text in NATURAL}
    assert sum(got[t] == want for t, want in NATURAL.items()) >= 4, got


def test_out_of_scope_is_rejected(tuned: Parser) -> None:
    """Requests outside the catalog are rejected."""
    got = {text: tuned.parse(text).intent for text in OUT_OF_SCOPE}
    assert sum(v is None for v in got.values()) >= 4, got


def test_catalog_examples(tuned: Parser, adapter: Path) -> None:
    """The catalog's own examples get their intent on the model path, for the intents the shipped
    adapter was tuned on (its provenance lists them; intents added since wait for the next tune)."""
    known = set(json.loads(adapter.with_suffix(".json").read_text(encoding="utf-8"))["catalog_intents"])
    cases = [(ex.text, name) for name, spec in tuned.catalog.intents.items() if name in known for ex in spec.examples]
    wrong = [(text, tuned.parse(text).intent, name) for text, name in cases if tuned.parse(text).intent != name]
    assert len(wrong) <= len(cases) // 10, wrong


def test_default_parser_asks_for_a_missing_colour_and_takes_the_answer(example_home_path: Path) -> None:
    """The default set-up end to end: the question, then a one-word answer completes the command."""
    parser = build_parser(Settings(), example_home_path)
    dialogue = Dialogue()  # one conversation: the question and its answer
    asked = parser.parse("could you change the study lamp to my favourite colour", dialogue)
    assert (asked.intent, asked.awaiting, asked.reason) == (None, "HassLightSet", "What brightness or colour?")
    done = parser.parse("blue", dialogue)
    assert (done.intent, done.targets, done.slots.get("color")) == ("HassLightSet", ["light.study_lamp"], "blue")


def test_default_parser_starts_a_vacuum_that_is_turned_on(example_home_path: Path) -> None:
    """ "switch on the robot vacuum" reaches the vacuum as a start, whichever on/off wording was used."""
    result = build_parser(Settings(), example_home_path).parse("please switch on the robot vacuum now")
    assert (result.intent, result.targets) == ("HassVacuumStart", ["vacuum.rover"])


def test_custom_intent_is_chosen_from_its_description_and_examples(adapter: Path, default_model_path: Path) -> None:
    """A custom intent (the SLURP home's MakeCoffee) is picked for phrasings that are not its examples,
    and a request the catalog does not cover stays out of scope."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, BENCH_DATA / "slurp_catalog.yaml"])
    model = LlamaModel(default_model_path, n_threads=2, lora_path=adapter)
    try:
        home = load_home(BENCH_DATA / "slurp_home.yaml")
        parser = Parser(catalog, home, model, ParserSettings(use_templates=False, tuned_prompt=True))
        # Written for this test, not taken from the benchmarks or the training phrasings.
        wanted = ["could i get a latte", "i'd love a cappuccino right now", "fix me an americano please"]
        got = {text: parser.parse(text).intent for text in wanted}
        assert sum(intent == "MakeCoffee" for intent in got.values()) >= 2, got
        assert parser.parse("what's the capital of peru").intent is None
    finally:
        model.close()


def test_adapter_applies_to_a_mapped_model(adapter: Path, default_model_path: Path) -> None:
    """The adapter is loaded by us, so llama.cpp maps the model instead of reading all of it into
    memory (llama-cpp-python does when given the adapter), and the adapter still changes answers;
    the output layer's pages leave resident memory after the prefix's check."""
    prefix, text, options = "Answer with a colour.\n", "Text: the sea\nColour:", ["red", "green", "blue"]
    plain = LlamaModel(default_model_path, n_threads=2, output_head=False)
    try:
        plain.set_prefix(prefix)
        base = plain.distribution(text, options)
    finally:
        plain.close()
    model = LlamaModel(default_model_path, n_threads=2, lora_path=adapter)
    try:
        model.set_prefix(prefix)
        assert max(abs(a - b) for a, b in zip(model.distribution(text, options), base, strict=True)) > 0.05
        mapped = [(size, resident) for size, resident in mappings_of(default_model_path) if size > 200 << 20]
        assert mapped and all(resident < size - (120 << 20) for size, resident in mapped), mapped
    finally:
        model.close()
