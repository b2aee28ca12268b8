"""The benchmarks of edge-assistant; they run from a source checkout, never from the wheel.

``python -m benchmarks SUITE`` or ``edge-assistant bench SUITE``; suites: ``nlu``, ``nlu-tuned``,
``nlu-dev``, ``dispatch``, ``audio`` and ``soak`` (``benchmarks.cli``). Results are in BENCHMARKS.md.
"""
