"""``python -m benchmarks SUITE ...``: the same suites as ``edge-assistant bench``."""

import sys

from benchmarks.cli import main

sys.exit(main())
