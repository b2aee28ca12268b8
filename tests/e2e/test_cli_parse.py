"""The CLI as a subprocess: the parse contract, batches, and errors people will meet."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "edge_assistant"]
KEYS = {"text", "intent", "slots", "targets", "confidence", "source", "latency_ms"}


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with a time limit."""
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, timeout=120, check=False)


def test_parse_text_prints_one_object(example_home_path: Path, default_model_path: Path) -> None:
    """With TEXT: one JSON object holding every contract key, brightness as an int."""
    done = run(
        "parse",
        "--home",
        str(example_home_path),
        "--model",
        str(default_model_path),
        "set the kitchen light to 30 percent",
    )
    obj = json.loads(done.stdout)
    assert (done.returncode, obj.keys() >= KEYS, obj["slots"]["brightness"], obj["targets"]) == (
        0,
        True,
        30,
        ["light.kitchen"],
    )


def test_parse_stdin_batch_survives_bad_lines(example_home_path: Path, default_model_path: Path) -> None:
    """One object per line, in order; a non-UTF-8 line yields an error object and the batch goes on."""
    lines = b"turn off the porch light\n\xff\xfe bad\n\ntell me a joke about cats\nstart vacuuming\n"
    done = run("parse", "--home", str(example_home_path), "--model", str(default_model_path), stdin=lines)
    objs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("intent") for o in objs] == ["HassTurnOff", None, None, None, "HassVacuumStart"]
    assert "error" in objs[1] and objs[2]["reason"] == "empty text"


def test_missing_model_exits_nonzero_with_pull_command(example_home_path: Path, tmp_path: Path) -> None:
    """A missing model names the path and `edge-assistant models pull`."""
    done = run("parse", "--home", str(example_home_path), "--model", str(tmp_path / "none.gguf"), "hi")
    assert done.returncode == 2 and b"edge-assistant models pull" in done.stderr


def test_bad_home_names_file_and_line(tmp_path: Path) -> None:
    """A broken home file is reported with file, line and field (the entity's, not the file's
    first line); exit status 2."""
    home = tmp_path / "home.yaml"
    home.write_text("entities:\n  - {id: light.a, area: nowhere, name: A}\n")
    done = run("parse", "--templates-only", "--home", str(home), "turn on a")
    assert done.returncode == 2 and f"{home}:2: entities.0.area".encode() in done.stderr


def test_models_verify_checks_the_hash(default_model_path: Path) -> None:
    """`models verify` recomputes the sha256 of the pulled default model."""
    done = run("models", "verify", "default", "--dir", str(default_model_path.parent))
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True
