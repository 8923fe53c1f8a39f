"""What the mocks saw: requests, faults by kind and latency percentiles per system."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChaosStats", "percentile"]

RESERVOIR = 10_000  # the most recent latencies kept per system for percentiles


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (``q`` in 0..100)."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class _SystemStats:
    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=RESERVOIR))


class ChaosStats:
    def __init__(self) -> None:
        self._systems: dict[str, _SystemStats] = {}
        # Requests held right now by an injected delay or hang. Live state, not history,
        # so a reset of the statistics leaves it alone.
        self._held: Counter[str] = Counter()

    def record(self, system: str, status: int, latency_ms: float, fault: str | None) -> None:
        stats = self._systems.setdefault(system, _SystemStats())
        stats.requests += 1
        stats.statuses[status] += 1
        stats.latencies_ms.append(latency_ms)
        if fault:
            stats.faults[fault] += 1

    def hold(self, system: str) -> None:
        self._held[system] += 1
        self._systems.setdefault(system, _SystemStats())

    def release(self, system: str) -> None:
        self._held[system] -= 1

    def count_fault(self, system: str, fault: str) -> None:
        """A fault applied outside a request (a database lock, say)."""
        self._systems.setdefault(system, _SystemStats()).faults[fault] += 1

    def reset(self) -> None:
        self._systems.clear()

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, stats in sorted(self._systems.items()):
            ordered = sorted(stats.latencies_ms)
            out[name] = {
                "requests": stats.requests,
                "faulted": sum(v for k, v in stats.faults.items() if k != "latency"),
                "faults_by_kind": dict(stats.faults),
                "status_counts": {str(k): v for k, v in sorted(stats.statuses.items())},
                "held_now": self._held[name],
                "latency_ms": {
                    **{f"p{q}": _rounded(percentile(ordered, q)) for q in (50, 95, 99)},
                    "samples": len(ordered),
                },
            }
        return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
