"""The caller-lookup benchmark: the layer against its critical path, the bare graph and a
naive sequential baseline (``python -m app bench lookup``; ``runner.py`` says how)."""

from loadtests.lookup.runner import LookupBenchConfig, run

__all__ = ["LookupBenchConfig", "run"]
