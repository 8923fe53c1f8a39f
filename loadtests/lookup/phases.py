"""Driving one phase of the lookup benchmark: closed-loop workers over real customers,
bounded in time, with progress lines and this process's CPU time."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtests.stack.callers import Caller
from mocks.chaos.stats import percentile

__all__ = ["Phase", "cpu_seconds", "drive", "pct"]

# A phase stops starting lookups after its time; one still in flight gets this long to end
# (a naive lookup has no deadline of its own).
DRAIN_S = 30.0


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    degraded: int = 0
    degraded_fields: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    def figures(self) -> dict[str, Any]:
        count = len(self.latencies_ms)
        return {
            "lookups": count,
            "seconds": round(self.elapsed_s, 2),
            "per_s": round(count / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "p50_ms": pct(self.latencies_ms, 50),
            "p95_ms": pct(self.latencies_ms, 95),
            "p99_ms": pct(self.latencies_ms, 99),
            "max_ms": round(max(self.latencies_ms, default=0.0), 2),
            "degraded": self.degraded,
            "degraded_fields": dict(self.degraded_fields),
            "errors": self.errors,
            "cpu_s_per_lookup": round(self.cpu_s / count, 5) if count else None,
        }


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile in ms, rounded; NaN when there is nothing to rank."""
    found = percentile(sorted(values), q)
    return round(found, 2) if found is not None else float("nan")


def cpu_seconds() -> float:
    """User + system time of this whole process (every thread, the SQL workers too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(
    name: str,
    one: Callable[[Caller, str], Awaitable[Counter[str]]],
    callers: Sequence[Caller],
    start_at: int,
    concurrency: int,
    seconds: float,
    *,
    stagger_s: float = 0.0,
    progress_every_s: float | None = None,
) -> Phase:
    """``concurrency`` workers call ``one`` back to back for ``seconds``; each lookup takes
    the next caller (from ``start_at``: distinct customers until the list wraps round).
    ``one`` returns the fields that were not live; an exception counts as an error, not
    a latency.

    Worker ``k`` starts ``k/concurrency`` of ``stagger_s`` late: with fixed latencies,
    workers started together stay in lockstep and their answers land in bursts, which
    callers arriving at random never produce."""
    phase = Phase(name)
    numbers = itertools.count(start_at)
    started = time.perf_counter()
    stop_at = started + seconds

    async def worker(k: int) -> None:
        await asyncio.sleep(k * stagger_s / concurrency)
        while time.perf_counter() < stop_at:
            n = next(numbers)
            begun = time.perf_counter()
            try:
                degraded = await one(callers[n % len(callers)], f"bench-{name}-{n}")
            except Exception:
                phase.errors += 1
                continue
            phase.latencies_ms.append((time.perf_counter() - begun) * 1000)
            if degraded:
                phase.degraded += 1
                phase.degraded_fields.update(degraded)

    cpu_before = cpu_seconds()
    reporter = (
        asyncio.create_task(_progress(phase, started, progress_every_s))
        if progress_every_s
        else None
    )
    try:
        async with asyncio.timeout(seconds + DRAIN_S):
            await asyncio.gather(*(worker(k) for k in range(concurrency)))
    finally:
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    phase.elapsed_s = time.perf_counter() - started
    phase.cpu_s = cpu_seconds() - cpu_before
    return phase


async def _progress(phase: Phase, started: float, every_s: float) -> None:
    """A line every ``every_s``: totals so far, and the percentiles of the last interval
    alone (a cumulative p95 hides a bad stretch)."""
    seen = 0
    while True:
        await asyncio.sleep(every_s)
        latest = sorted(phase.latencies_ms[seen:])
        seen += len(latest)
        p50, p95 = percentile(latest, 50) or 0.0, percentile(latest, 95) or 0.0
        print(
            f"  {phase.name:<6}{time.perf_counter() - started:4.0f}s {seen:6} lookups; "
            f"last {every_s:.0f}s: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms; "
            f"degraded {phase.degraded}  errors {phase.errors}",
            flush=True,
        )
