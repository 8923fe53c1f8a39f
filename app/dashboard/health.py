"""Green, amber or red: one verdict per system, with the reasons a person would give.

The verdict reads the integration layer's own view first (its breaker's sliding window:
failure rate, slow-call rate, state), then what the mocks say they are doing (an outage
now, the share of requests they faulted lately). Thresholds are deliberately simple: the
dashboard explains, the breaker decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.dashboard import fmt

__all__ = [
    "BAD_SHARE",
    "COLOURS",
    "WARN_SHARE",
    "Health",
    "Level",
    "call_health",
    "source_health",
    "target_health",
]

Level = Literal["ok", "warn", "bad", "idle"]
_RANK = {"idle": 0, "ok": 1, "warn": 2, "bad": 3}
# (fill, border/text accent): light fills keep dark labels readable on the map.
COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#c8e6c9", "#2e7d32"),
    "warn": ("#ffe082", "#e65100"),
    "bad": ("#ef9a9a", "#b71c1c"),
    "idle": ("#eceff1", "#78909c"),
}
WARN_SHARE = 0.05
BAD_SHARE = 0.5
MIN_CALLS = 5  # fewer calls than this in the window say nothing about a rate


@dataclass(frozen=True)
class Health:
    level: Level
    reasons: tuple[str, ...] = ()

    def worse(self, level: Level, reason: str) -> Health:
        top: Level = level if _RANK[level] > _RANK[self.level] else self.level
        return Health(top, (*self.reasons, reason))

    @property
    def summary(self) -> str:
        if self.reasons:
            return "; ".join(self.reasons)
        return {"ok": "healthy", "idle": "no traffic yet", "warn": "degraded", "bad": "failing"}[
            self.level
        ]


def _breaker(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {"state": value} if isinstance(value, str) else {}


def _chaos(
    health: Health, chaos_state: Mapping[str, Any] | None, fault_share: float | None
) -> Health:
    if chaos_state and chaos_state.get("down_now"):
        health = health.worse("bad", "outage injected")
    if fault_share is not None and fault_share >= WARN_SHARE:
        level: Level = "bad" if fault_share >= BAD_SHARE else "warn"
        health = health.worse(level, f"mock faulting {fmt.pct(fault_share)}")
    return health


def source_health(
    snapshot: Mapping[str, Any] | None,
    *,
    chaos_state: Mapping[str, Any] | None = None,
    fault_share: float | None = None,
) -> Health:
    """A read source, from ``GET /systems`` (one entry) and the chaos plane."""
    snapshot = snapshot or {}
    breaker = _breaker(snapshot.get("breaker"))
    calls = int(breaker.get("calls") or 0)
    health = Health("ok" if calls else "idle")
    state = breaker.get("state")
    if state == "open":
        health = health.worse("bad", "breaker open")
    elif state == "half_open":
        health = health.worse("warn", "breaker half-open")
    failure_rate = float(breaker.get("failure_rate") or 0.0)
    if calls >= MIN_CALLS and failure_rate >= WARN_SHARE:
        level: Level = "bad" if failure_rate >= BAD_SHARE else "warn"
        health = health.worse(level, f"{fmt.pct(failure_rate)} failing")
    slow_rate = float(breaker.get("slow_rate") or 0.0)
    slow_ms = _slow_call_ms(snapshot)
    p95 = _p95_ms(snapshot)
    if slow_ms is not None and p95 is not None and p95 > slow_ms and calls:
        health = health.worse("warn", f"p95 {fmt.ms(p95)} over its {fmt.ms(slow_ms)} SLA")
    elif calls >= MIN_CALLS and slow_rate >= 0.2:
        health = health.worse("warn", f"{fmt.pct(slow_rate)} slow calls")
    return _chaos(health, chaos_state, fault_share)


def target_health(
    outbox_system: Mapping[str, Any] | None,
    *,
    chaos_state: Mapping[str, Any] | None = None,
    fault_share: float | None = None,
) -> Health:
    """A write target, from ``GET /outbox``'s per-system entry and the chaos plane."""
    entry = outbox_system or {}
    counts = [int(entry.get(k) or 0) for k in ("pending", "in_flight", "delivered", "dead")]
    health = Health("ok" if any(counts) else "idle")
    state = _breaker(entry.get("breaker")).get("state")
    if state == "open":
        health = health.worse("bad", "breaker open")
    elif state == "half_open":
        health = health.worse("warn", "breaker half-open")
    if counts[3]:
        health = health.worse("warn", f"{counts[3]} dead")
    oldest = entry.get("oldest_pending_age_s")
    if isinstance(oldest, int | float) and oldest >= 60:
        level: Level = "bad" if oldest >= 300 else "warn"
        health = health.worse(level, f"oldest pending {fmt.age(oldest)}")
    return _chaos(health, chaos_state, fault_share)


def call_health(recommendations: list[str]) -> Health:
    """The layer as the agent sees it: how many recent calls had to escalate or hedge."""
    if not recommendations:
        return Health("idle")
    n = len(recommendations)
    escalated = recommendations.count("escalate") / n
    cached = recommendations.count("use_cached_and_say_so") / n
    health = Health("ok")
    if escalated >= WARN_SHARE:
        health = health.worse(
            "bad" if escalated >= 0.3 else "warn", f"{fmt.pct(escalated)} escalated"
        )
    if cached >= 0.1:
        health = health.worse("warn", f"{fmt.pct(cached)} on cached data")
    return health


def _slow_call_ms(snapshot: Mapping[str, Any]) -> float | None:
    # GET /systems may carry the policy's slow-call threshold; older services do not.
    for holder in (snapshot.get("policy"), snapshot.get("breaker")):
        if isinstance(holder, Mapping):
            value = holder.get("slow_call_ms")
            if value is None and isinstance(holder.get("breaker"), Mapping):
                value = holder["breaker"].get("slow_call_ms")
            if isinstance(value, int | float):
                return float(value)
    return None


def _p95_ms(snapshot: Mapping[str, Any]) -> float | None:
    latency = snapshot.get("latency")
    if not isinstance(latency, Mapping):
        return None
    values = [
        float(op["p95_ms"])
        for op in latency.values()
        if isinstance(op, Mapping) and op.get("samples") and op.get("p95_ms") is not None
    ]
    return max(values) if values else None
