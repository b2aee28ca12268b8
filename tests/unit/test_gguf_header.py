"""Reading an adapter's prompt format from its GGUF header, without llama.cpp."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from edge_assistant.errors import ModelError, ModelNotFoundError
from edge_assistant.nlu.llm import adapter_prompt_format, gguf_string
from edge_assistant.nlu.prompt import TUNED_FORMAT


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _gguf(path: Path, pairs: list[tuple[str, int, bytes]]) -> Path:
    """A GGUF v3 header with metadata ``pairs`` (key, type, encoded value) and no tensors."""
    body = b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs))
    for key, kind, value in pairs:
        body += _string(key) + struct.pack("<I", kind) + value
    path.write_bytes(body)
    return path


def _adapter(path: Path, fmt: str) -> Path:
    tokens = struct.pack("<IQ", 8, 2) + _string("hello") + _string("world")
    return _gguf(
        path,
        [
            ("general.type", 8, _string("adapter")),
            ("adapter.lora.alpha", 6, struct.pack("<f", 16.0)),
            ("tokenizer.ggml.tokens", 9, tokens),
            ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 2) + struct.pack("<ff", 0.5, 0.25)),
            ("edge_assistant.prompt_format", 8, _string(fmt)),
        ],
    )


def test_reads_a_string_key_after_numbers_and_arrays(tmp_path: Path) -> None:
    """The reader skips floats and string/float arrays to reach the key; an absent key is None."""
    path = _adapter(tmp_path / "a.gguf", TUNED_FORMAT)
    assert gguf_string(path, "edge_assistant.prompt_format") == TUNED_FORMAT
    assert gguf_string(path, "general.type") == "adapter"
    assert gguf_string(path, "general.name") is None


def test_known_formats_are_accepted(tmp_path: Path) -> None:
    """Adapters of the current format and of v1 (description-only prompts) both load."""
    assert adapter_prompt_format(_adapter(tmp_path / "v2.gguf", TUNED_FORMAT)) == TUNED_FORMAT
    v1 = "edge-assistant-tuned-v1"
    assert adapter_prompt_format(_adapter(tmp_path / "v1.gguf", v1)) == v1


def test_unknown_or_foreign_adapters_are_clear_errors(tmp_path: Path) -> None:
    """A future format, a foreign LoRA, a truncated header, a non-GGUF and a missing file each say so."""
    with pytest.raises(ModelError, match=r"prompt format 'edge-assistant-tuned-v9'.*re-run `edge-assistant tune`"):
        adapter_prompt_format(_adapter(tmp_path / "v9.gguf", "edge-assistant-tuned-v9"))
    foreign = _gguf(tmp_path / "foreign.gguf", [("general.type", 8, _string("adapter"))])
    with pytest.raises(ModelError, match="not an adapter made by `edge-assistant tune`"):
        adapter_prompt_format(foreign)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(_adapter(tmp_path / "whole.gguf", TUNED_FORMAT).read_bytes()[:40])
    with pytest.raises(ModelError, match="truncated"):
        adapter_prompt_format(cut)
    text = tmp_path / "text.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a GGUF file"):
        adapter_prompt_format(text)
    with pytest.raises(ModelNotFoundError, match=r"missing\.gguf"):
        adapter_prompt_format(tmp_path / "missing.gguf")


def test_parser_prompts_in_the_adapters_format(example_home_path: Path) -> None:
    """A v2 adapter's model sees custom intents' examples; a v1 adapter's model the v1 prefix without them."""
    from edge_assistant.home import load_home
    from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
    from edge_assistant.nlu.parser import Parser, ParserSettings
    from edge_assistant.testing import KeywordChoiceModel

    slurp = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "slurp_catalog.yaml"
    catalog = load_catalog([BUILTIN_CATALOG_DIR, slurp])
    prefixes = {}
    for fmt in ("edge-assistant-tuned-v1", TUNED_FORMAT):
        model = KeywordChoiceModel({})
        model.prompt_format = fmt  # type: ignore[attr-defined]
        Parser(catalog, load_home(example_home_path), model, ParserSettings(tuned_prompt=True))
        prefixes[fmt] = model.prefixes[0]
    assert '(like "make me a coffee"; "brew an espresso")' in prefixes[TUNED_FORMAT]
    assert "make coffee = make a cup of coffee" in prefixes["edge-assistant-tuned-v1"]
    assert "(like" not in prefixes["edge-assistant-tuned-v1"]
