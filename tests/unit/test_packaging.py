"""What the runtime wheel carries, and which way the imports between the package and the checkout point."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_files() -> list[str]:
    """Every path `pip wheel .` packs, as hatchling lists them for the wheel (nothing is built)."""
    from hatchling.builders.wheel import WheelBuilder  # the dev extra

    return sorted(f.distribution_path.replace("\\", "/") for f in WheelBuilder(str(ROOT)).recurse_included_files())


def test_wheel_holds_the_runtime_and_tune_but_no_benchmark_or_test_code(wheel_files: list[str]) -> None:
    """Only edge_assistant/ goes in (with the catalog, manifest and tune); benchmarks/, tests/, their data do not."""
    unwanted = [
        p
        for p in wheel_files
        if not p.startswith("edge_assistant/")
        or p.startswith("edge_assistant/bench/")
        or p.endswith(("/synth.py", "/broker.py", "slurp_catalog.yaml", "natural_commands.txt"))
    ]
    needed = {"edge_assistant/cli/__init__.py", "edge_assistant/tune/train.py", "edge_assistant/_models/manifest.toml"}
    assert (unwanted, needed - set(wheel_files)) == ([], set())


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_runtime_imports_nothing_from_benchmarks_or_tests_but_the_bench_command() -> None:
    """The package never needs the checkout: only cli/bench.py looks for benchmarks (guarded); tests never."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.split(".")[0] in {"benchmarks", "tests"})
        for path in (ROOT / "edge_assistant").rglob("*.py")
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert offenders == {"edge_assistant/cli/bench.py": ["benchmarks.cli"]}


def test_bench_outside_a_checkout_says_where_benchmarks_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``benchmarks`` not importable (an installed wheel), ``bench nlu`` exits 2 naming the source checkout."""
    from edge_assistant.cli import main

    monkeypatch.setitem(sys.modules, "benchmarks", None)
    monkeypatch.setitem(sys.modules, "benchmarks.cli", None)
    status = main(["bench", "nlu", "--data", "x"])
    assert (status, "only from a source checkout" in capsys.readouterr().err) == (2, True)
