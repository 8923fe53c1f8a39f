"""``python -m loadtests.lookup``: the lookup benchmark without the ``app`` command line."""

from loadtests.lookup.runner import main

raise SystemExit(main(None))
