"""Synthetic tuning data: determinism, labels, split, prompts shared with the runtime, bad input."""

import random
from pathlib import Path

import pytest

from edge_assistant.errors import EdgeAssistantError, TuneError
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.prompt import MAX_PROMPT_EXAMPLES, NONE_LABEL, build_tuned_prefix
from edge_assistant.tune.data import DataSettings, Sample, check_inputs, generate, split
from edge_assistant.tune.homes import generate_home
from edge_assistant.tune.phrases import CUSTOM_INTENTS
from edge_assistant.tune.vary import vary

pytestmark = pytest.mark.unit

SLURP_CATALOG = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "slurp_catalog.yaml"
SMALL = DataSettings(samples=400, homes=4)


@pytest.fixture(scope="module")
def samples(example_home_path: Path) -> list[Sample]:
    """400 samples for the built-in catalog on the example home."""
    return generate(load_catalog(), load_home(example_home_path), SMALL, seed=3)


def test_same_seed_same_data(samples: list[Sample], example_home_path: Path) -> None:
    """Generation is deterministic for a seed."""
    again = generate(load_catalog(), load_home(example_home_path), SMALL, seed=3)
    assert again == samples


def test_other_seed_other_data(samples: list[Sample], example_home_path: Path) -> None:
    """A different seed gives mostly different sentences."""
    other = generate(load_catalog(), load_home(example_home_path), SMALL, seed=4)
    assert len({s.text for s in other} & {s.text for s in samples}) < len(samples) // 2


def test_labels_are_catalog_labels_none_or_listed_custom(samples: list[Sample]) -> None:
    """Every answer is an intent label, 'none', or a custom intent the sample's prompt lists."""
    labels = {s.label for s in load_catalog().intents.values()} | {NONE_LABEL}
    bad = [s for s in samples if s.label not in labels and s.label not in {line[0] for line in s.extra}]
    assert bad == []


def test_every_kind_is_present(samples: list[Sample]) -> None:
    """Commands, rejections and custom intents all appear; the everyday on/off commands often."""
    counts = {label: sum(s.label == label for s in samples) for label in ("turn on", "turn off", NONE_LABEL)}
    custom = {lab for lab, _, _ in CUSTOM_INTENTS}
    assert min(counts.values()) >= 20 and any(s.label in custom for s in samples)


def test_text_is_normalised_like_the_runtime(samples: list[Sample]) -> None:
    """Texts are what the model path sees: lowercase, number words as digits, no empty ones."""
    assert all(s.text and s.text == s.text.lower() and " fifty" not in s.text for s in samples)


def test_split_is_disjoint_and_deterministic(samples: list[Sample]) -> None:
    """Train and validation never share a sentence, and the split does not depend on order."""
    train, val = split(samples, 0.1)
    again_train, _ = split(list(reversed(samples)), 0.1)
    assert not {s.text for s in train} & {s.text for s in val}
    assert {s.text for s in again_train} == {s.text for s in train} and 0 < len(val) < len(samples) // 4


def test_prompt_prefix_is_the_runtime_prefix() -> None:
    """A sample listing the catalog's custom intents has exactly the runtime's tuned prefix, examples included."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, SLURP_CATALOG])
    extra = tuple(
        (s.label, s.description, tuple(ex.text for ex in s.examples[:MAX_PROMPT_EXAMPLES]))
        for s in catalog.intents.values()
        if s.source == "custom"
    )
    prefix, cont, answer = Sample("brew an espresso", "make coffee", extra).prompt
    assert prefix == build_tuned_prefix(catalog)
    assert 'Also: make coffee = make a cup of coffee with the coffee machine (like "make me a coffee"; ' in prefix
    assert (cont, answer) == ("Command: brew an espresso\nIntent:", " make coffee\n")
    assert "(like" not in build_tuned_prefix(catalog, with_examples=False)


def test_invented_intents_are_asked_mostly_with_unshown_phrasings(samples: list[Sample]) -> None:
    """A custom sample shows 0-3 examples of its intent and mostly asks a phrasing that is not among them."""
    custom = {label for label, _, _ in CUSTOM_INTENTS}
    picked = [s for s in samples if s.label in custom]
    shown = [next(line[2] for line in s.extra if line[0] == s.label) for s in picked]
    assert picked and all(len(examples) <= MAX_PROMPT_EXAMPLES for examples in shown)
    unshown = sum(s.text not in examples for s, examples in zip(picked, shown, strict=True))
    assert unshown >= 0.7 * len(picked) and any(shown) and not all(shown)


def test_unlisted_invented_phrasings_are_negatives(samples: list[Sample]) -> None:
    """An invented intent's phrasing labelled 'none' never comes with that intent listed in its prompt."""
    phrasing_of = {text: label for label, _, texts in CUSTOM_INTENTS for text in texts}
    for sample in samples:
        if sample.label == NONE_LABEL and sample.text in phrasing_of:
            assert phrasing_of[sample.text] not in {line[0] for line in sample.extra}


def test_custom_catalog_intents_appear_in_prompts(example_home_path: Path) -> None:
    """With a custom intent in the catalog, its label is listed and trained on."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, SLURP_CATALOG])
    data = generate(catalog, load_home(example_home_path), SMALL, seed=1)
    assert any(s.label == "make coffee" for s in data)
    assert all("make coffee" in {line[0] for line in s.extra} for s in data)


def test_generated_homes_vary_and_are_valid() -> None:
    """Generated homes validate and differ in their names."""
    rng = random.Random(0)
    homes = [generate_home(rng) for _ in range(5)]
    names = [frozenset(e.name for e in h.entities) for h in homes]
    assert len(set(names)) == 5 and all(h.entities and h.areas for h in homes)


def test_vary_is_deterministic() -> None:
    """Variations depend only on the random generator's state."""
    texts = ["turn off the bedroom lights please", "vacuum the kitchen"] * 20
    first = [vary(t, random.Random(i)) for i, t in enumerate(texts)]
    assert first == [vary(t, random.Random(i)) for i, t in enumerate(texts)] and set(first) != set(texts)


def test_home_without_entities_is_refused() -> None:
    """A home with no entities is a clear error before anything is trained."""
    with pytest.raises(TuneError, match="no entities"):
        check_inputs(load_catalog(), Home.model_validate({"areas": [{"name": "Kitchen"}]}))


def test_intent_without_sentences_is_refused(tmp_path: Path, example_home_path: Path) -> None:
    """A catalog intent that yields no sentences is named in the error."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("intents:\n  HassMadeUp:\n    description: x\n    source: home-assistant\n", encoding="utf-8")
    with pytest.raises(EdgeAssistantError, match="HassMadeUp"):
        check_inputs(load_catalog([BUILTIN_CATALOG_DIR, bad]), load_home(example_home_path))


def _time_phrasings() -> set[str]:
    from edge_assistant.nlu.normalize import normalize_text
    from edge_assistant.tune.phrases import INTENT_PATTERNS

    return {normalize_text(text) for text in INTENT_PATTERNS["HassGetCurrentTime"]}


def test_phrasings_of_catalog_intents_are_never_negatives(example_home_path: Path) -> None:
    """ "what time is it" is the clock intent when the catalog has it: never also labelled 'none'."""
    data = generate(load_catalog(), load_home(example_home_path), DataSettings(samples=1500, homes=2), seed=5)
    phrasings = _time_phrasings()
    assert not [s for s in data if s.label == NONE_LABEL and s.text in phrasings]
    assert any(s.label == "current time" and s.text in phrasings for s in data)


def test_phrasings_of_intents_the_catalog_lacks_are_negatives(example_home_path: Path) -> None:
    """A catalog without the clock intent learns to reject its phrasings rather than never seeing them."""
    full = load_catalog()
    catalog = full.model_copy(update={"intents": {k: v for k, v in full.intents.items() if k != "HassGetCurrentTime"}})
    data = generate(catalog, load_home(example_home_path), DataSettings(samples=1500, homes=2), seed=5)
    phrasings = _time_phrasings()
    assert any(s.label == NONE_LABEL and s.text in phrasings for s in data)
    assert not [s for s in data if s.label == "current time"]
