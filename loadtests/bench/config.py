"""What a benchmark run measures: the service setups it can start, its settings, and where
its figures go. Apart from the run itself so the baselines can read it without a cycle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SETUPS", "BenchConfig", "Setup", "results_path"]


@dataclass(frozen=True)
class Setup:
    """One way to run the integration service: how many workers, on which store."""

    key: str
    label: str
    workers: int
    store: str  # "sqlite" (files in the state folder) or "postgres" (a throwaway server)


SETUPS: dict[str, Setup] = {
    s.key: s
    for s in (
        Setup("1-sqlite", "1 worker, SQLite", 1, "sqlite"),
        Setup("2-sqlite", "2 workers, SQLite", 2, "sqlite"),
        Setup("2-postgres", "2 workers, PostgreSQL", 2, "postgres"),
    )
}


@dataclass(frozen=True)
class BenchConfig:
    profile: str = "default"
    scale: float = 1.0  # every phase this many times its length
    setups: tuple[str, ...] = tuple(SETUPS)
    customers: int = 1000
    seed: int = 42
    solo_calls: int = 30
    naive_s: float = 5.0
    naive_concurrency: int = 16
    ceiling_s: float = 3.0
    ceiling_concurrency: int = 100
    drain_timeout_s: float = 180.0
    burst_calls: int = 2000
    burst_concurrency: int = 200
    state_dir: Path = Path(".state/bench")
    out: Path | None = Path("bench/results.json")
    hot_path: Path | None = None  # py-spy's speedscope file, when profiling
    progress_every_s: float | None = 3.0


def results_path(profile: str) -> Path:
    """``bench/results.json`` for the default profile; ``bench/results-<profile>.json``
    for the others, so a stormy run does not replace the figures the README quotes."""
    return Path("bench/results.json" if profile == "default" else f"bench/results-{profile}.json")
