"""``python -m edge_assistant``."""

import sys

from edge_assistant.cli import main

sys.exit(main())
