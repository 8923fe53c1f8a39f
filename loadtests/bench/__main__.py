"""``python -m loadtests.bench``: the benchmark without the ``app`` command line."""

from loadtests.bench.runner import main

raise SystemExit(main(None))
