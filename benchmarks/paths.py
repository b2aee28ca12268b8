"""The default paths of the benchmarks, resolved in one place from the source checkout.

Benchmarks run from a clone: the example home is ``deploy/home.example.yaml`` of that clone, the
benchmark's own data is beside this module, and the external evaluation data is the
``shared/benchmarks`` directory next to the clone (never copied into it).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "EXAMPLE_HOME", "REPO_ROOT", "SHARED_DATA"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
EXAMPLE_HOME = REPO_ROOT / "deploy" / "home.example.yaml"
SHARED_DATA = REPO_ROOT.parent / "shared" / "benchmarks"
