"""The benchmark: whole calls against the real stack, one table from one run
(``python -m app bench``; ``runner.py`` says what a run does)."""

from loadtests.bench.config import SETUPS, BenchConfig, results_path
from loadtests.bench.profiles import PROFILES
from loadtests.bench.runner import held_anywhere, run

__all__ = ["PROFILES", "SETUPS", "BenchConfig", "held_anywhere", "results_path", "run"]
