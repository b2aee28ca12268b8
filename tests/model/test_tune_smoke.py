"""A smoke tune end to end on the real default model: data -> train -> export -> llama.cpp -> parse.

A few steps on tiny data (the CI budget is 3 minutes), through the CLI as users run it. The
adapter must load in llama.cpp on the unchanged base and choose exactly what the torch model
chooses (the export is checked, not just written); then ``parse`` picks it up through config.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, Catalog, load_catalog
from edge_assistant.tune.data import DataSettings
from edge_assistant.tune.pipeline import TuneJob
from edge_assistant.tune.train import TrainSettings

pytestmark = pytest.mark.model

CLI = [sys.executable, "-m", "edge_assistant"]


@pytest.fixture(scope="module")
def smoke_tune(tmp_path_factory: pytest.TempPathFactory, example_home_path: Path, default_model_path: Path) -> Path:
    """Run ``edge-assistant tune`` for 3 steps on 250 samples; return the adapter path.

    250 samples give 25 validation samples, so all 16 agreement checks run: after 3 steps most
    decisions among the catalog's 31 intents are near ties, and 150 samples (14 checked) left only
    2 clear ones, too few for the agreement test below (with 250: 6 clear, all agreeing).
    """
    out = tmp_path_factory.mktemp("tune") / "smoke.lora.gguf"
    args = ["tune", "--home", str(example_home_path), "--base", str(default_model_path), "--out", str(out)]
    args += ["--steps", "3", "--samples", "250", "--batch-size", "4", "--generated-homes", "2", "--seed", "7"]
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tune: 3/3 steps" in done.stderr and "validation accuracy" in done.stderr
    return out


def test_adapter_and_provenance_are_written(smoke_tune: Path, default_model_path: Path) -> None:
    """The adapter is a small GGUF; its provenance names the command, seed and base hash."""
    from edge_assistant.modelstore import sha256_of

    record = json.loads(smoke_tune.with_suffix(".json").read_text(encoding="utf-8"))
    assert smoke_tune.read_bytes()[:4] == b"GGUF" and smoke_tune.stat().st_size < 20_000_000
    assert record["seed"] == 7 and "--steps 3" in record["command"]
    assert record["base_sha256"] == sha256_of(default_model_path)
    assert sorted(p.name for p in smoke_tune.parent.iterdir()) == ["smoke.lora.gguf", "smoke.lora.json"]  # none staged


def test_llama_cpp_chooses_what_torch_chooses(smoke_tune: Path) -> None:
    """On the validation samples torch decides clearly, llama.cpp with the adapter agrees every time.

    A wrong export (tensor names, layout, scale) breaks clear decisions too; a near tie (under one
    logit) may tip either way on the quantized base and is not compared.
    """
    record = json.loads(smoke_tune.with_suffix(".json").read_text(encoding="utf-8"))
    agreed, clear = (int(n) for n in record["torch_llama_agreement"].split("/"))
    assert clear >= 3 and agreed == clear, record


def test_parse_picks_the_adapter_up_from_config(smoke_tune: Path, tmp_path: Path, example_home_path: Path) -> None:
    """``parse`` with ``[model] lora_path`` loads base + adapter and answers on the model path."""
    config = tmp_path / "config.toml"
    config.write_text(f'[model]\nlora_path = "{smoke_tune}"\n', encoding="utf-8")
    args = ["parse", "--home", str(example_home_path), "--config", str(config), "kindly get the porch light going"]
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["source"] == "model" and 0.0 <= result["confidence"] <= 1.0


def test_unsupported_base_fails_before_training(tmp_path: Path, example_home_path: Path) -> None:
    """A base that is not GGUF fails at once with a clear message, and writes nothing."""
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * (2 * 1024 * 1024))
    out = tmp_path / "out.lora.gguf"
    args = ["tune", "--home", str(example_home_path), "--base", str(bad), "--out", str(out)]
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is not a readable GGUF" in done.stderr and not out.exists()


def _tiny_job(base: Path, out: Path, home: Path) -> tuple[TuneJob, Catalog, Home]:

    job = TuneJob(
        base=base,
        out=out,
        data=DataSettings(samples=120, homes=2),
        train=TrainSettings(steps=1, batch_size=2, seed=3),
        command="edge-assistant tune (test)",
    )
    return job, load_catalog([BUILTIN_CATALOG_DIR]), load_home(home)


def test_interrupted_evaluation_leaves_the_active_adapter(
    tmp_path: Path, default_model_path: Path, example_home_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the new adapter is evaluated: the old adapter and its provenance stay, byte for byte."""
    from edge_assistant.tune import pipeline

    out = tmp_path / "home.lora.gguf"
    out.write_bytes(b"GGUF the active adapter")
    pipeline.provenance_path(out).write_text('{"seed": 0}\n', encoding="utf-8")
    seen: list[Path] = []

    def interrupted(base: Path, adapter: Path, *_: object) -> dict[str, object]:
        seen.append(adapter)
        assert adapter.exists() and adapter != out  # evaluation reads the staged adapter, not the active one
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "evaluate", interrupted)
    job, catalog, home = _tiny_job(default_model_path, out, example_home_path)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_tune(job, catalog, home, None, lambda _message: None)
    assert seen == [pipeline.staged_path(out)]
    assert out.read_bytes() == b"GGUF the active adapter"
    assert pipeline.provenance_path(out).read_text(encoding="utf-8") == '{"seed": 0}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home.lora.gguf", "home.lora.json"]


def test_sigterm_stops_a_tune_cleanly(tmp_path: Path, example_home_path: Path, default_model_path: Path) -> None:
    """SIGTERM (systemd, timeout) mid-tune: exit 143, nothing staged left, the active adapter untouched."""
    import signal

    out = tmp_path / "home.lora.gguf"
    out.write_bytes(b"GGUF the active adapter")
    args = ["tune", "--home", str(example_home_path), "--base", str(default_model_path), "--out", str(out)]
    args += ["--steps", "400", "--samples", "150", "--batch-size", "2", "--generated-homes", "2"]
    proc = subprocess.Popen([*CLI, *args], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "tune: 1/400 steps" in line:  # training has begun
            proc.send_signal(signal.SIGTERM)
            break
    proc.stderr.read()
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    assert out.read_bytes() == b"GGUF the active adapter"
    assert [p.name for p in tmp_path.iterdir()] == ["home.lora.gguf"]
