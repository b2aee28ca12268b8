"""``edge-assistant listen`` as a subprocess on WAV files synthesised with espeak-ng and sox.

pocketsphinx (the zero-download English engine, as in CI) in grammar mode, the template parser.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.synth import espeak, mix_at_snr, silence, sox_noise, write_wav

pytestmark = pytest.mark.e2e

# command -> (intent, targets) in deploy/home.example.yaml
COMMANDS = {
    "turn on the porch light": ("HassTurnOn", ["light.porch"]),
    "turn off the porch light": ("HassTurnOff", ["light.porch"]),
    "turn on the kitchen light": ("HassTurnOn", ["light.kitchen"]),
    "turn off the kitchen light": ("HassTurnOff", ["light.kitchen"]),
    "turn on the living room lamp": ("HassTurnOn", ["light.living_room_lamp"]),
    "turn off the bedroom lamp": ("HassTurnOff", ["light.bedroom_lamp"]),
    "turn on the coffee maker": ("HassTurnOn", ["switch.coffee_maker"]),
    "turn off the coffee maker": ("HassTurnOff", ["switch.coffee_maker"]),
    "switch on the lights in the study": ("HassTurnOn", ["light.study_lamp"]),
    "lights off in the study": ("HassTurnOff", ["light.study_lamp"]),
    "open the garage door": ("HassTurnOn", ["cover.garage_door"]),
    "lock the front door": ("HassTurnOn", ["lock.front_door"]),
    "open the study blinds": ("HassTurnOn", ["cover.study_blinds"]),
    "close the blinds in the study": ("HassTurnOff", ["cover.study_blinds"]),
    "set the porch light to 40 percent": ("HassLightSet", ["light.porch"]),
    "set the kitchen light to 70 percent": ("HassLightSet", ["light.kitchen"]),
    "dim the lights in the study": ("HassLightSet", ["light.study_lamp"]),
    "make the kitchen light blue": ("HassLightSet", ["light.kitchen"]),
    "set the study thermostat to 21 degrees": ("HassClimateSetTemperature", ["climate.study"]),
    "what is the temperature in the study": ("HassClimateGetTemperature", ["climate.study"]),
    "is the front door locked": ("HassGetState", ["lock.front_door"]),
    "set the study blinds to 30 percent": ("HassSetPosition", ["cover.study_blinds"]),
    "set the ceiling fan to 50 percent": ("HassFanSetSpeed", ["fan.ceiling"]),
    "turn off the ceiling fan": ("HassTurnOff", ["fan.ceiling"]),
    "turn on the tv": ("HassTurnOn", ["media_player.tv"]),
    "start the robot vacuum": ("HassVacuumStart", ["vacuum.rover"]),
    "what is the outside temperature": ("HassGetState", ["sensor.outside_temperature"]),
    "next track on the tv": ("HassMediaNext", ["media_player.tv"]),
}
OFF_TOPIC = [
    "the quick brown fox jumps over the lazy dog",
    "please remind me to call the dentist",
    "my sister is coming over for dinner tomorrow",
    "how tall is the eiffel tower",
]


def _listen(
    home: Path, files: list[Path], *extra: str, engine: str = "pocketsphinx"
) -> tuple[int, list[dict[str, Any]], str]:
    argv = [sys.executable, "-m", "edge_assistant", "listen", "--home", str(home), "--templates-only"]
    argv += ["--stt", engine, *extra]
    done = subprocess.run([*argv, *map(str, files)], capture_output=True, text=True, timeout=600)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


@pytest.fixture(scope="module")
def command_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One WAV per command, espeak-ng at its native 22.05 kHz, with silence around it."""
    folder = tmp_path_factory.mktemp("commands")
    return {
        text: write_wav(folder / f"{i:02d}.wav", silence(500) + espeak(text) + silence(600))
        for i, text in enumerate(COMMANDS)
    }


def test_commands_reach_the_right_intent_and_targets(example_home_path: Path, command_files: dict[str, Path]) -> None:
    """At least 20 spoken catalog commands go end to end to the right intent and targets."""
    code, rows, stderr = _listen(example_home_path, list(command_files.values()))
    assert code == 0, stderr
    by_file = {row["file"]: row for row in rows}
    got = {text: (by_file[str(path)]["intent"], by_file[str(path)]["targets"]) for text, path in command_files.items()}
    assert got == COMMANDS
    row = by_file[str(command_files["turn on the kitchen light"])]
    assert row["transcript"] == "turn on the kitchen light"
    assert {"stt", "speech_end_to_intent"} <= set(row["timings_ms"])


def test_silence_noise_and_off_topic_speech_give_no_intent(example_home_path: Path, tmp_path: Path) -> None:
    """Silence, sox noise and off-topic sentences each print objects with intent null, one at least per file."""
    files = [write_wav(tmp_path / "silence.wav", silence(3000))]
    files += [write_wav(tmp_path / f"{kind}.wav", sox_noise(3.0, kind)) for kind in ("whitenoise", "pinknoise")]
    files += [
        write_wav(tmp_path / f"off{i}.wav", silence(500) + espeak(t) + silence(600)) for i, t in enumerate(OFF_TOPIC)
    ]
    code, rows, stderr = _listen(example_home_path, files)
    assert code == 0, stderr
    assert {row["file"] for row in rows} == {str(f) for f in files}
    assert [row for row in rows if row["intent"] is not None] == []


def test_bad_files_are_reported_and_the_rest_still_runs(
    example_home_path: Path, command_files: dict[str, Path], tmp_path: Path
) -> None:
    """Empty, truncated, float and non-WAV files give one error object each; a good file still works."""
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(command_files["turn on the tv"].read_bytes()[:20000])
    text = tmp_path / "text.wav"
    text.write_text("not audio", encoding="utf-8")
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 8) + b"\0" * 8
    floats = tmp_path / "float.wav"
    floats.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    good = command_files["turn on the tv"]
    code, rows, stderr = _listen(example_home_path, [empty, truncated, text, floats, good])
    assert code == 1
    errors = {Path(row["file"]).name: row["error"] for row in rows if "error" in row}
    assert "empty" in errors["empty.wav"] and "truncated" in errors["truncated.wav"]
    assert "PCM WAV" in errors["float.wav"] and "not a usable WAV" in errors["text.wav"]
    assert [row["intent"] for row in rows if row["file"] == str(good)] == ["HassTurnOn"]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("engine", ["whisper", "pocketsphinx"])
def test_transcribe_prints_an_open_vocabulary_transcript(command_files: dict[str, Path], engine: str) -> None:
    """``transcribe`` decodes without the grammar and prints one object per file (Whisper, the
    default, hears the words; pocketsphinx's open model only writes something)."""
    argv = [sys.executable, "-m", "edge_assistant", "transcribe", "--stt", engine, str(command_files["turn on the tv"])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    row = json.loads(done.stdout)
    assert done.returncode == 0 and row["engine"] == engine and row["text"]
    assert engine != "whisper" or "turn on the tv" in row["text"].lower()


def test_transcribe_reports_a_bad_file_and_goes_on(command_files: dict[str, Path], tmp_path: Path) -> None:
    """A bad file among several is an error object and exit status 1, as with ``listen``; the
    files after it are still transcribed (the first bad file ended the batch)."""
    bad = tmp_path / "empty.wav"
    bad.write_bytes(b"")
    good = command_files["turn on the tv"]
    argv = [sys.executable, "-m", "edge_assistant", "transcribe", str(bad), str(good)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1 and "empty" in rows[0]["error"] and "Traceback" not in done.stderr
    assert rows[1]["file"] == str(good) and "turn on the tv" in rows[1]["text"].lower()


def test_dispatch_puts_the_actions_in_each_object(example_home_path: Path, command_files: dict[str, Path]) -> None:
    """With ``--dispatch`` the configured handlers run (the log handler by default) and their
    results are printed under ``actions``."""
    code, rows, stderr = _listen(example_home_path, [command_files["turn on the tv"]], "--dispatch")
    assert code == 0, stderr
    assert rows[0]["intent"] == "HassTurnOn"
    assert [(a["handler"], a["ok"], a["reply"]) for a in rows[0]["actions"]] == [("log", True, "Turned on the TV")]


def test_commands_in_steady_noise_are_each_their_own_utterance(example_home_path: Path, tmp_path: Path) -> None:
    """A room with a fan, as a live microphone hears it: one stream of pink noise that never stops,
    three commands in it at 15 dB, heard by Whisper (the default engine; pocketsphinx's grammar pass
    mishears espeak in noise). Each command ends on its trailing quiet and acts, in order. Before
    d0e40c3 the noise kept the first utterance open until ``max_utterance_s`` (10 s), so the stream
    was one utterance that swallowed all three (the file benchmarks hid it: they end by flushing)."""
    said = ["turn on the porch light", "open the garage door", "turn off the ceiling fan"]
    gap = silence(1500)
    speech = gap + b"".join(espeak(text) + gap for text in said)
    path = write_wav(tmp_path / "fan.wav", mix_at_snr(speech, sox_noise(5.0, "pinknoise"), 15.0))
    code, rows, stderr = _listen(example_home_path, [path], engine="whisper")
    assert code == 0, stderr
    assert [(row["intent"], row["targets"]) for row in rows] == [COMMANDS[text] for text in said]


def test_realtime_listening_answers_from_the_decode_at_the_pause(
    example_home_path: Path, command_files: dict[str, Path]
) -> None:
    """``--realtime`` plays the file as a microphone gives it: Whisper has decoded the command at
    the speaker's pause (``[stt] early_decode_ms``) while the endpointer waited out its silence,
    and that transcript answers (``heard_early``)."""
    import time

    start = time.monotonic()
    code, rows, stderr = _listen(example_home_path, [command_files["turn on the tv"]], "--realtime", engine="whisper")
    assert code == 0, stderr
    assert [(r["intent"], r["targets"], r["heard_early"]) for r in rows] == [("HassTurnOn", ["media_player.tv"], True)]
    assert time.monotonic() - start >= rows[0]["timings_ms"]["audio"] / 1000  # paced, not read at once
