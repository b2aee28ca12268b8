"""The GGUF adapter writer, base checks, the progress bar and adapter resolution (no model loaded)."""

import io
from pathlib import Path
from types import SimpleNamespace

import gguf
import numpy as np
import pytest

from benchmarks.tuned import parse_adapters
from edge_assistant.cli.tune import ProgressBar
from edge_assistant.config import ModelSettings, Settings
from edge_assistant.errors import ModelNotFoundError, TuneError
from edge_assistant.runtime import resolve_lora_path
from edge_assistant.tune.export import PROMPT_FORMAT, check_disk, write_adapter
from edge_assistant.tune.lora import gguf_architecture

pytestmark = pytest.mark.unit

CONFIG = SimpleNamespace(num_attention_heads=2, num_key_value_heads=1)


def _state(rank: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return {
        "blk.0.attn_q.weight": (rng.normal(size=(rank, 8)), rng.normal(size=(8, rank))),
        "blk.0.ffn_down.weight": (rng.normal(size=(rank, 16)), rng.normal(size=(8, rank))),
    }


def _fields(path: Path) -> tuple[dict[str, object], dict[str, tuple[int, ...]]]:
    reader = gguf.GGUFReader(str(path))
    kv = {name: reader.fields[name].contents() for name in reader.fields if not name.startswith("GGUF.")}
    shapes = {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}
    return kv, shapes


def test_adapter_has_llama_cpp_layout(tmp_path: Path) -> None:
    """general.type/adapter.type/alpha keys; lora_a is (in, rank) and lora_b (rank, out) in ggml order."""
    out = tmp_path / "a.lora.gguf"
    write_adapter(out, "gemma3", _state(), 16.0, CONFIG, {"base_sha256": "abc"})
    kv, shapes = _fields(out)
    assert (kv["general.type"], kv["adapter.type"], kv["adapter.lora.alpha"]) == ("adapter", "lora", 16.0)
    assert kv["general.architecture"] == "gemma3" and kv["edge_assistant.prompt_format"] == PROMPT_FORMAT
    assert shapes["blk.0.ffn_down.weight.lora_a"] == (16, 2) and shapes["blk.0.ffn_down.weight.lora_b"] == (2, 8)


def test_llama_q_rows_are_permuted_like_the_base(tmp_path: Path) -> None:
    """For Llama-style GGUFs the q/k rows of lora_b follow convert_hf_to_gguf's permutation."""
    out = tmp_path / "l.lora.gguf"
    state = _state()
    write_adapter(out, "llama", state, 16.0, CONFIG, {})
    reader = gguf.GGUFReader(str(out))
    got = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight.lora_b").data
    b = state["blk.0.attn_q.weight"][1]
    expected = b.reshape(2, 2, 2, 2).swapaxes(1, 2).reshape(b.shape)
    assert np.allclose(np.asarray(got, dtype=np.float32), expected.astype(np.float16), atol=1e-3)
    assert not np.allclose(expected, b)


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    """An error while writing leaves neither the target nor a temporary file."""
    bad = {"blk.0.attn_q.weight": (np.zeros((2, 8)), "not an array")}
    with pytest.raises(Exception):  # noqa: B017 - whatever numpy raises, the point is the cleanup
        write_adapter(tmp_path / "x.gguf", "gemma3", bad, 16.0, CONFIG, {})
    assert list(tmp_path.iterdir()) == []


def test_previous_adapter_survives_a_failed_write(tmp_path: Path) -> None:
    """The adapter the runtime loads stays as it was when a new write fails."""
    out = tmp_path / "a.lora.gguf"
    write_adapter(out, "gemma3", _state(), 16.0, CONFIG, {})
    before = out.read_bytes()
    with pytest.raises(Exception):  # noqa: B017
        write_adapter(out, "gemma3", {"blk.0.x.weight": (np.zeros((2, 2)), None)}, 16.0, CONFIG, {})
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["a.lora.gguf"]


def test_not_enough_disk_is_a_clear_error(tmp_path: Path) -> None:
    """Asking for more space than the disk has names the directory and both sizes."""
    with pytest.raises(TuneError, match="not enough disk space"):
        check_disk(tmp_path, 2**62)


def test_non_gguf_base_is_refused(tmp_path: Path) -> None:
    """A file that is not GGUF is a TuneError, not a crash."""
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not a model" * 100)
    with pytest.raises(TuneError, match="not a readable GGUF"):
        gguf_architecture(path)


def test_unsupported_architecture_is_refused(tmp_path: Path) -> None:
    """A GGUF of an architecture transformers cannot dequantize for us is named in the error."""
    path = tmp_path / "bert.gguf"
    writer = gguf.GGUFWriter(str(path), "bert")
    writer.add_tensor("x", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(TuneError, match="architecture 'bert' cannot be tuned"):
        gguf_architecture(path)


def test_progress_bar_plain_lines_when_not_a_terminal() -> None:
    """In a pipe the bar prints about every 5% with a time estimate, not carriage returns."""
    stream = io.StringIO()
    bar = ProgressBar(stream)
    for step in range(1, 101):
        bar(step, 100, 1.0, step * 2.0)
    lines = stream.getvalue().splitlines()
    assert 15 <= len(lines) <= 22 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("tune: 100/100 steps") and "0:00 left" in lines[-1]


def test_lora_path_none_disables_the_adapter(tmp_path: Path) -> None:
    """lora_path = "none" loads no adapter even for the default model."""
    settings = Settings(model=ModelSettings(lora_path="none"))
    assert resolve_lora_path(settings, tmp_path / "gemma-3-270m-q4_k_m.gguf") is None


def test_no_shipped_adapter_for_another_base(tmp_path: Path) -> None:
    """The shipped adapter belongs to the default model only."""
    assert resolve_lora_path(Settings(), tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf") is None


def test_missing_configured_adapter_is_named(tmp_path: Path) -> None:
    """A configured adapter that does not exist is an error naming the path and the tune command."""
    settings = Settings(model=ModelSettings(lora_path=str(tmp_path / "missing.gguf")))
    with pytest.raises(ModelNotFoundError, match=r"missing\.gguf.*edge-assistant tune"):
        resolve_lora_path(settings, tmp_path / "base.gguf")


def test_bench_adapter_arguments(tmp_path: Path) -> None:
    """--adapter NAME=PATH pairs are parsed; malformed ones and missing files are named."""
    file = tmp_path / "a.gguf"
    file.write_bytes(b"x")
    assert parse_adapters([f"mine={file}"]) == [("mine", file)]
    with pytest.raises(ValueError, match="NAME=PATH"):
        parse_adapters(["nonsense"])
    with pytest.raises(ValueError, match="file not found"):
        parse_adapters(["x=/nonexistent.gguf"])
