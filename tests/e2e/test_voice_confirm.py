"""A spoken "Are you sure?" answered by voice: the grammar holds yes/no, the pipeline passes it on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.synth import espeak, silence, write_wav

pytestmark = pytest.mark.e2e


def _statuses(home: Path, tmp: Path, texts: list[str]) -> list[list[tuple[str, str]]]:
    files = [write_wav(tmp / f"{i}.wav", silence(300) + espeak(t) + silence(800)) for i, t in enumerate(texts)]
    argv = [sys.executable, "-m", "edge_assistant", "listen", "--home", str(home), "--templates-only", "--dispatch"]
    argv += ["--stt", "pocketsphinx"]
    out = subprocess.run([*argv, *map(str, files)], capture_output=True, text=True, timeout=300, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    return [[(a["status"], a["reply"]) for a in row["actions"]] for row in rows]


def test_garage_door_waits_for_a_spoken_yes_and_a_no_cancels(tmp_path: Path, example_home_path: Path) -> None:
    """open the garage door -> question; yes -> done. Again; no -> cancelled, nothing opened."""
    texts = ["turn off the porch light", "open the garage door", "yes", "open the garage door", "no"]
    got = _statuses(example_home_path, tmp_path, texts)
    assert got[1] == [("confirm", "Are you sure you want to open the garage door?")]
    assert got[2] == [("done", "Opened the garage door")]
    assert got[3][0][0] == "confirm" and got[4][0][0] == "cancelled"


def test_missing_value_is_asked_and_answered_by_voice(tmp_path: Path, example_home_path: Path) -> None:
    """adjust the study lamp -> "What brightness or colour?"; "red" -> the study lamp turns red."""
    # Two commands first: pocketsphinx's cepstral mean settles on the voice (BENCHMARKS.md, Audio).
    texts = ["turn off the porch light", "turn on the kitchen light", "adjust the study lamp", "red"]
    files = [write_wav(tmp_path / f"{i}.wav", silence(300) + espeak(t) + silence(800)) for i, t in enumerate(texts)]
    argv = [sys.executable, "-m", "edge_assistant", "listen", "--home", str(example_home_path), "--templates-only"]
    argv += ["--stt", "pocketsphinx"]
    out = subprocess.run(
        [*argv, "--dispatch", *map(str, files)], capture_output=True, text=True, timeout=300, check=True
    )
    *_, asked, answered = (json.loads(line) for line in out.stdout.splitlines())
    assert (asked["awaiting"], [a["reply"] for a in asked["actions"]]) == (
        "HassLightSet",
        ["What brightness or colour?"],
    )
    assert (answered["transcript"], answered["intent"], answered["slots"].get("color")) == (
        "red",
        "HassLightSet",
        "red",
    )
    assert answered["targets"] == ["light.study_lamp"] and answered["actions"][0]["status"] == "done"
