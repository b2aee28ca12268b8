"""The benchmark suites from a source checkout: ``python -m benchmarks`` and ``edge-assistant bench``."""

import subprocess
import sys

import pytest

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
