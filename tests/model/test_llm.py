"""The real default GGUF model: constrained choices, caching, golden examples, bad files."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.nlu import slots_match
from edge_assistant.errors import ModelError, ModelNotFoundError
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.llm import LlamaModel
from edge_assistant.nlu.parser import Parser
from tests.support.mapped import mappings_of

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model(default_model_path: Path) -> Iterator[LlamaModel]:
    """The default model, loaded once for the module."""
    loaded = LlamaModel(default_model_path, n_threads=2)
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def parser(model: LlamaModel, example_home_path: Path) -> Parser:
    """The full parser on the example home."""
    return Parser(load_catalog(), load_home(example_home_path), model)


def test_choice_is_always_an_option(model: LlamaModel) -> None:
    """Whatever the text, the answer is one of the options, with a probability in (0, 1]."""
    model.set_prefix("Answer with a colour.\n")
    options = ["red", "green", "blue sky", "blue"]
    picks = [model.choose(f"Text: {t}\nColour:", options) for t in ("grass", "the sea", "zzz", "fire truck")]
    assert all(p.option in options and 0 < p.probability <= 1 for p in picks)


def test_same_input_same_answer(model: LlamaModel) -> None:
    """Decoding is deterministic, and the cached prefix does not drift between calls."""
    model.set_prefix("Answer yes or no.\n")
    first = [model.choose("Q: is fire hot?\nA:", ["yes", "no"]) for _ in range(3)]
    assert len({(c.option, round(c.probability, 5)) for c in first}) == 1


def test_golden_examples_of_the_catalog(parser: Parser) -> None:
    """Every example sentence of the catalog parses to its intent and slots on the example home."""
    wrong = [
        (ex.text, r.intent)
        for name, spec in parser.catalog.intents.items()
        for ex in spec.examples
        if (r := parser.parse(ex.text)).intent != name or not slots_match(ex.slots, r.slots)
    ]
    assert wrong == []


def test_model_path_never_invents_a_device(parser: Parser) -> None:
    """Commands about things the home lacks resolve to nothing."""
    results = [parser.parse(t) for t in ("switch off the dishwasher", "open the attic window", "turn on the sauna")]
    assert [r.targets for r in results] == [[], [], []]


def test_missing_model_names_pull_command(tmp_path: Path) -> None:
    """A missing file names its path and the command that fetches it."""
    with pytest.raises(ModelNotFoundError, match="edge-assistant models pull default"):
        LlamaModel(tmp_path / "nope.gguf")


def test_non_gguf_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not GGUF is refused before llama.cpp sees it."""
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 4096)
    with pytest.raises(ModelError, match="not a GGUF"):
        LlamaModel(bad)


def test_truncated_gguf_is_a_clear_error(tmp_path: Path, default_model_path: Path) -> None:
    """A truncated model is a ModelError, not a native crash."""
    cut = tmp_path / "cut.gguf"
    with default_model_path.open("rb") as src:
        cut.write_bytes(src.read(3 * 1024 * 1024))
    with pytest.raises(ModelError):
        LlamaModel(cut)


def test_distribution_covers_every_option_and_agrees_with_choose(model: LlamaModel) -> None:
    """Every option's probability, summing to 1; the greedy pick's probability is the same number."""
    model.set_prefix("Answer with a colour.\n")
    options = ["red", "green", "blue sky", "blue", "dark red"]
    for text in ("grass", "the sea", "a fire truck"):
        probs = model.distribution(f"Text: {text}\nColour:", options)
        pick = model.choose(f"Text: {text}\nColour:", options)
        assert abs(sum(probs) - 1.0) < 1e-4 and all(0.0 <= p <= 1.0 for p in probs)
        assert abs(probs[pick.index] - pick.probability) < 1e-4
    first = model.distribution("Text: the sea\nColour:", options)
    model.choose("Text: grass\nColour:", options)
    assert model.distribution("Text: the sea\nColour:", options) == pytest.approx(first, abs=1e-5)


@pytest.fixture(scope="module")
def full_layer(default_model_path: Path) -> Iterator[LlamaModel]:
    """The default model with llama.cpp's whole output layer (no head of our own)."""
    loaded = LlamaModel(default_model_path, n_threads=2, output_head=False)
    yield loaded
    loaded.close()


def test_output_head_gives_llama_cpps_probabilities(model: LlamaModel, full_layer: LlamaModel) -> None:
    """Choices over the allowed tokens' rows alone match llama.cpp's whole output layer."""
    options = ["red", "green", "blue sky", "blue", "dark red"]
    for loaded in (model, full_layer):
        loaded.set_prefix("Answer with a colour.\n")
    assert model.output_head and not full_layer.output_head
    for text in ("grass", "the sea", "a fire truck", "snow"):
        ours = model.distribution(f"Text: {text}\nColour:", options)
        theirs = full_layer.distribution(f"Text: {text}\nColour:", options)
        assert ours == pytest.approx(theirs, abs=0.02)
        assert model.choose(f"Text: {text}\nColour:", options).index == max(range(len(theirs)), key=theirs.__getitem__)


def test_choose_many_picks_what_each_picks_alone(model: LlamaModel, full_layer: LlamaModel) -> None:
    """Continuations evaluated together (one batch per step, options of different depths) pick
    what each picks alone, at its probability; the cache is left as the next ``choose`` expects;
    more than one batch holds are taken one after another; a text too long says so."""
    options = ["red", "green", "blue sky", "blue", "dark red"]
    conts = [f"Text: {t}\nColour:" for t in ("grass", "the deep blue sea on a summer day", "a fire truck", "snow")]
    for loaded in (model, full_layer):
        loaded.set_prefix("Answer with a colour.\n")
        alone = [loaded.choose(c, options) for c in conts]
        together = loaded.choose_many(conts, options)
        assert [c.index for c in together] == [c.index for c in alone]
        # llama.cpp's attention over several sequences sums in another order: on this model that
        # moves a probability by a few hundredths (as its flash attention does), never the pick here.
        assert [c.probability for c in together] == pytest.approx([c.probability for c in alone], abs=0.06)
        again = loaded.choose(conts[1], options)
        assert again.index == alone[1].index and again.probability == pytest.approx(alone[1].probability, abs=1e-5)
        assert [c.index for c in loaded.choose_many(conts * 3, options)] == [c.index for c in alone] * 3
        # Texts that together overflow one batch are asked one by one, exactly as alone.
        long = [f"Text: {'a very long and winding description of ' * 12}{t}\nColour:" for t in ("grass", "snow")]
        assert loaded.choose_many(long, options) == [loaded.choose(c, options) for c in long]
    with pytest.raises(ValueError, match="too long"):
        model.choose_many(["word " * 3000, conts[0]], options)


def test_output_head_that_disagrees_is_dropped(default_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A head whose logits are not llama.cpp's (a soft-capped model, say) is found at set_prefix and not used."""
    from edge_assistant.nlu import llm

    real = llm._OutputHead.logits
    monkeypatch.setattr(
        llm._OutputHead, "logits", lambda self, hidden, tokens: [v * 1.5 for v in real(self, hidden, tokens)]
    )
    loaded = LlamaModel(default_model_path, n_threads=2)
    try:
        assert loaded.output_head
        loaded.set_prefix("Answer yes or no.\n")
        assert not loaded.output_head
        assert loaded.choose("Q: is fire hot?\nA:", ["yes", "no"]).option == "yes"
    finally:
        loaded.close()


def test_output_layer_is_not_kept_resident(model: LlamaModel, default_model_path: Path) -> None:
    """llama.cpp maps the model; after the prefix's whole-graph check, its pages of the output
    layer (170 MB of Gemma 3 270M's 250, read by our head row by row instead) leave the process's
    resident memory, and choices after that do not bring them back."""
    model.set_prefix("Answer with a colour.\n")
    model.choose("Text: the sea\nColour:", ["red", "green", "blue"])
    assert model.output_head
    # llama.cpp's mappings: the whole file's tensors (``full_layer``'s too, which reads them all).
    mapped = [(size, resident) for size, resident in mappings_of(default_model_path) if size > 200 << 20]
    assert any(resident < size - (120 << 20) for size, resident in mapped), mapped
