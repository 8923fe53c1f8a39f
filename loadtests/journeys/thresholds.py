"""Pass or fail a Locust run from its CSV: the failure ratio and each step's p95.

Thresholds come from a YAML file (``loadtests/journeys/thresholds.yaml`` by default) and flags
that override it::

    max_failure_ratio: 0.0          # failed requests / all requests, every step together
    p95_ms:                         # per step, by the name Locust reports it under
      "POST /calls": 1000           # (shell-style patterns: "POST /calls/{id}/tools/*")
    min_calls_ratio: 0.9            # calls started / calls the target rate asked for

A step a threshold names but the run never made is a failure too: a journey that silently
skipped its tools must not pass a p95 on them. Locust rounds the percentiles it writes
(to 10 ms above 100 ms, to 100 ms above 1 s), so keep p95 thresholds coarse; the
benchmark (``python -m app bench``) measures exact latencies.
"""

from __future__ import annotations

import csv
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "StepStats",
    "Thresholds",
    "Verdict",
    "evaluate",
    "load_thresholds",
    "read_stats",
]

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.yaml")
AGGREGATED = "Aggregated"


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_failure_ratio: float = Field(0.0, ge=0, le=1)
    p95_ms: dict[str, float] = Field(default_factory=dict)
    min_calls_ratio: float | None = Field(None, ge=0, le=10)

    def overridden(
        self,
        max_failure_ratio: float | None = None,
        p95_ms: Mapping[str, float] | None = None,
        min_calls_ratio: float | None = None,
    ) -> Thresholds:
        changes: dict[str, Any] = {"p95_ms": {**self.p95_ms, **(p95_ms or {})}}
        if max_failure_ratio is not None:
            changes["max_failure_ratio"] = max_failure_ratio
        if min_calls_ratio is not None:
            changes["min_calls_ratio"] = min_calls_ratio
        return self.model_copy(update=changes)


def load_thresholds(path: Path) -> Thresholds:
    """The thresholds in ``path``; a ValueError naming the file and field when wrong."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return Thresholds.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{path}: {problems}") from None


@dataclass(frozen=True)
class StepStats:
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_s: float


def _number(row: Mapping[str, str], column: str) -> float:
    value = row.get(column, "")
    return float(value) if value not in ("", "N/A") else float("nan")


def read_stats(stats_csv: Path) -> dict[str, StepStats]:
    """Locust's ``*_stats.csv``: each step by name, and the ``Aggregated`` row."""
    steps: dict[str, StepStats] = {}
    with stats_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            steps[row["Name"]] = StepStats(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p50_ms=_number(row, "50%"),
                p95_ms=_number(row, "95%"),
                p99_ms=_number(row, "99%"),
                per_s=_number(row, "Requests/s"),
            )
    return steps


@dataclass(frozen=True)
class Verdict:
    passed: bool
    what: str  # the threshold and the figure it met or missed, one line


def evaluate(
    steps: Mapping[str, StepStats],
    thresholds: Thresholds,
    *,
    calls_expected: float | None = None,
    calls_step: str = "POST /calls",
) -> list[Verdict]:
    """One verdict per threshold. ``calls_expected`` is what the target rate asked for
    over the run (needed only for ``min_calls_ratio``)."""
    verdicts: list[Verdict] = []
    total = steps.get(AGGREGATED)
    if total is None or total.requests == 0:
        return [Verdict(False, "the run made no requests at all")]
    ratio = total.failures / total.requests
    verdicts.append(
        Verdict(
            ratio <= thresholds.max_failure_ratio,
            f"failure ratio {ratio:.4f} ({total.failures} of {total.requests}) "
            f"<= {thresholds.max_failure_ratio:g}",
        )
    )
    named = [name for name in steps if name != AGGREGATED]
    for pattern, limit in thresholds.p95_ms.items():
        matching = [name for name in named if fnmatch.fnmatchcase(name, pattern)]
        if not matching:
            verdicts.append(Verdict(False, f"p95 {pattern}: no such step in the run"))
        for name in matching:
            p95 = steps[name].p95_ms
            verdicts.append(Verdict(p95 <= limit, f"p95 {name} {p95:g} ms <= {limit:g} ms"))
    if thresholds.min_calls_ratio is not None and calls_expected:
        started = steps[calls_step].requests if calls_step in steps else 0
        share = started / calls_expected
        verdicts.append(
            Verdict(
                share >= thresholds.min_calls_ratio,
                f"calls started {started} of {calls_expected:.0f} asked for "
                f"({share:.2f} >= {thresholds.min_calls_ratio:g})",
            )
        )
    return verdicts
