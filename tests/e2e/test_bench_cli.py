"""The benchmark suites from a source checkout: ``python -m benchmarks`` and ``edge-assistant bench``."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.synth import espeak, silence, write_wav

pytestmark = pytest.mark.e2e
SUITES = ("nlu", "nlu-tuned", "nlu-dev", "dispatch", "audio", "soak")


@pytest.mark.parametrize("entry", [["-m", "benchmarks"], ["-m", "edge_assistant", "bench"]])
def test_both_entry_points_list_every_suite(entry: list[str]) -> None:
    """``--help`` of either entry point exits 0 and names all six suites."""
    done = subprocess.run([sys.executable, *entry, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, [s for s in SUITES if s not in done.stdout]) == (0, [])


def test_python_m_benchmarks_reports_a_bad_adapter_like_the_cli() -> None:
    """A malformed --adapter is a one-line error and status 2, as under ``edge-assistant bench``."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "nlu-dev", "--adapter", "broken", "--model", "/nonexistent.gguf"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, "error: --adapter expects NAME=PATH, got 'broken'" in done.stderr) == (2, True)


def test_real_speech_suite_scores_recordings_on_their_home(tmp_path: Path) -> None:
    """``bench audio --suite real`` over a real_speech_en-shaped folder of spoken WAVs (espeak-ng,
    one at 44.1 kHz stereo with a wake phrase): each is heard, parsed on its home and scored."""
    fixture = tmp_path / "speech_to_phrase"
    fixture.mkdir()
    (fixture / "fixtures_en.yaml").write_text(
        "language: en\nfixtures:\n  areas: [{name: Office}]\n  entities:\n    - {name: Garage Door, domain: cover}\n",
        encoding="utf-8",
    )
    write_wav(fixture / "close.wav", silence(500) + espeak("close the garage door") + silence(800))
    write_wav(fixture / "oov.wav", silence(500) + espeak("my sister is coming for dinner") + silence(800))
    wake = tmp_path / "rhasspy_wake"
    wake.mkdir()
    mono = np.frombuffer(silence(500) + espeak("hey computer, turn on the living room lamp") + silence(800), np.int16)
    stereo = np.repeat(np.interp(np.arange(0, len(mono), 16000 / 44100), np.arange(len(mono)), mono), 2)
    write_wav(wake / "lamp.wav", stereo.astype(np.int16).tobytes(), rate=44100, channels=2)
    rows = [
        "speech_to_phrase/close.wav\tclose the Garage Door\tcommand",
        "speech_to_phrase/oov.wav\t\tnegative",
        "rhasspy_wake/lamp.wav\tturn on the living room lamp\twake+command (wake word: hey computer)",
    ]
    (tmp_path / "manifest.tsv").write_text(
        "file\ttranscript\tkind\trate\tchannels\tseconds\tsource\tlicence\n"
        + "".join(f"{r}\t16000\t1\t2\tespeak-ng\tMIT\n" for r in rows),
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    args = ["audio", "--suite", "real", "--real", str(tmp_path), "--engines", "pocketsphinx", "--templates-only"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    outcomes = {r["file"]: r["outcome"] for r in report["recordings"]}
    assert outcomes == {
        "speech_to_phrase/close.wav": "understood",
        "speech_to_phrase/oov.wav": "rejected",
        "rhasspy_wake/lamp.wav": "understood",
    }, report["recordings"]
    assert (report["commands"]["understood"], report["negatives_accepted"], report["wake"]["understood"]) == (1, 0, 1)


def test_real_speech_suite_mixes_noise_into_each_recording(tmp_path: Path) -> None:
    """``--snr`` mixes pink noise into each recording at that SNR over its speech before the pipeline."""
    from benchmarks.real_speech import _noisy
    from tests.support.synth import sox_noise, wav_bytes_to_pcm

    speech = silence(500) + espeak("close the garage door") + silence(800)
    (tmp_path / "noisy").mkdir()
    noisy = _noisy(write_wav(tmp_path / "close.wav", speech), sox_noise(5.0), 12.0, tmp_path / "noisy")
    mixed = np.frombuffer(wav_bytes_to_pcm(noisy.read_bytes()), np.int16).astype(np.float64)
    clean = np.frombuffer(speech, np.int16).astype(np.float64)
    active = clean[np.abs(clean) > 0.05 * np.abs(clean).max()]
    snr = 10 * np.log10(np.mean(active**2) / np.mean((mixed - clean) ** 2))
    assert len(mixed) == len(clean) and abs(snr - 12.0) < 0.5
