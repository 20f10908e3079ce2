"""``python -m benchmarks.perf``: run every speed benchmark (see suite.py)."""

import sys

from benchmarks.perf.suite import main

sys.exit(main())
