"""Each system's recent attempts, summed up over one rolling window: the health model's input.

    summarise(events, now=..., window_s=10, recent_s=10, write_kinds=...) -> {system: {side: Tally}}

Per system and side (``read``: the caller lookup's attempts; ``write``: the outbox's
deliveries, whose operations are the effect kinds), over the last ``window_s`` seconds:
attempts, failed attempts (refusals by our own breaker or budget included: the caller got
no data either way; attempts never made because the call's deadline was spent earlier
are left out), the error rate, and the latency p50/p95 of the attempts that reached
the system. Latency and failure are kept apart: a slow answer is a success with a high
latency, never a failure. ``recent`` counts the last ``recent_s`` seconds alone, so a
reader can tell a system that failed a while ago from one failing now.

Pure: the events and the time are passed in (the endpoint reads them from the store or
the in-memory stream).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integration.events.metrics import REFUSALS
from integration.events.model import Event

__all__ = ["RECENT_S", "WINDOW_S", "Tally", "percentile", "since_iso", "summarise"]

WINDOW_S = 10.0
RECENT_S = 10.0
# Neither success nor failure of the system: a hedge's loser, and an attempt never made
# because the call's deadline was spent before it (by a slow source earlier in the lookup:
# the blame is that source's, through its own latency).
_NOT_COUNTED = frozenset({"cancelled", "deadline_exceeded"})


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank on sorted ``values`` (None when there are none)."""
    if not values:
        return None
    rank = max(1, math.ceil(q * len(values)))
    return values[rank - 1]


@dataclass
class Tally:
    attempts: int = 0
    failed: int = 0
    cached: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    recent_attempts: int = 0
    recent_failed: int = 0
    recent_latencies: list[float] = field(default_factory=list)
    last_age_s: float | None = None

    def add(self, event: Event, age_s: float, recent: bool) -> None:
        if event.kind == "cache":
            self.cached += 1
            return
        self.attempts += 1
        failed = event.outcome != "ok"
        self.failed += failed
        if failed:
            self.outcomes[event.outcome] = self.outcomes.get(event.outcome, 0) + 1
        reached = event.outcome not in REFUSALS and event.latency_ms is not None
        if reached and not event.cache_hit:
            self.latencies.append(float(event.latency_ms or 0.0))
            if recent:
                self.recent_latencies.append(float(event.latency_ms or 0.0))
        if recent:
            self.recent_attempts += 1
            self.recent_failed += failed
        if self.last_age_s is None or age_s < self.last_age_s:
            self.last_age_s = age_s

    def as_dict(self, window_s: float) -> dict[str, Any]:
        ordered, recent = sorted(self.latencies), sorted(self.recent_latencies)
        return {
            "attempts": self.attempts,
            "failed": self.failed,
            "error_rate": _share(self.failed, self.attempts),
            "per_s": round(self.attempts / window_s, 3),
            "p50_ms": _round(percentile(ordered, 0.5)),
            "p95_ms": _round(percentile(ordered, 0.95)),
            "cached": self.cached,
            "outcomes": dict(sorted(self.outcomes.items())),
            "last_age_s": _round(self.last_age_s),
            "recent": {
                "attempts": self.recent_attempts,
                "failed": self.recent_failed,
                "error_rate": _share(self.recent_failed, self.recent_attempts),
                "p95_ms": _round(percentile(recent, 0.95)),
            },
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _epoch(at: str) -> float | None:
    try:
        return datetime.fromisoformat(at).timestamp()
    except (TypeError, ValueError):
        return None


def summarise(
    events: Iterable[Event],
    *,
    now: float,
    window_s: float = WINDOW_S,
    recent_s: float = RECENT_S,
    write_kinds: frozenset[str] = frozenset(),
    via: Mapping[str, str] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{system: {"read"|"write": summary}}`` of the attempts and cache answers in the
    window ending at ``now`` (seconds since the epoch). ``via`` maps a system the layer
    reaches through a gateway to that gateway, whose tally then holds every attempt that
    crossed it too (the gateway's own events are its sources')."""
    via = via or {}
    tallies: dict[tuple[str, str], Tally] = {}
    for event in events:
        if event.kind not in ("attempt", "cache") or not event.system:
            continue
        if event.outcome in _NOT_COUNTED:
            continue
        at = _epoch(event.at)
        if at is None:
            continue
        age = max(0.0, now - at)
        if age > window_s:
            continue
        side = "write" if event.operation in write_kinds else "read"
        for system in (event.system, via.get(event.system)):
            if system:
                tallies.setdefault((system, side), Tally()).add(event, age, age <= recent_s)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (system, side), tally in sorted(tallies.items()):
        out.setdefault(system, {})[side] = tally.as_dict(window_s)
    return out


def since_iso(now: float, window_s: float) -> str:
    """The ``at`` stamp a window ending at ``now`` starts at (events' own format)."""
    start = datetime.fromtimestamp(now - window_s, UTC)
    return start.isoformat(timespec="milliseconds")
