"""``python -m benchmarks``: every figure of the production set-up; see benchmarks/figures.py."""

import sys

from benchmarks.figures import main

sys.exit(main())
