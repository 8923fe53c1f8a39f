"""``GET /systems/health``: what the layer knows of each system, over one rolling window.

Per system and side (read: the caller lookup; write: the outbox's deliveries): attempts,
error rate and latency p50/p95 over the same window (from the event stream: every
worker's events when they are stored), the breaker's state (the worst of the live
workers'), and for write targets the outbox's pending, in-flight, retrying and dead
effects with the oldest pending age. The dashboard's health model adds the mocks' fault
profile and decides up / degraded / down / unknown; this answer only reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from integration.api.workers import combined_systems, combined_write_breakers
from integration.events.window import RECENT_S, since_iso, summarise
from integration.outbox.deliveries import SYSTEM_OF_KIND

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["RETRYING_SCAN", "system_health"]

RETRYING_SCAN = 1000  # pending effects looked at to count the retrying ones
_WRITE_KINDS = frozenset(SYSTEM_OF_KIND)
_EMPTY: dict[str, Any] = {
    "attempts": 0,
    "failed": 0,
    "error_rate": None,
    "per_s": 0.0,
    "p50_ms": None,
    "p95_ms": None,
    "cached": 0,
    "outcomes": {},
    "last_age_s": None,
    "recent": {"attempts": 0, "failed": 0, "error_rate": None, "p95_ms": None},
}


async def system_health(layer: Integration, window_s: float) -> dict[str, Any]:
    now = layer.wall_clock()
    events = await layer.sink.recent(since_iso(now, window_s))
    windows = summarise(
        events,
        now=now,
        window_s=window_s,
        recent_s=min(RECENT_S, window_s),
        write_kinds=_WRITE_KINDS,
        via=layer.system_map.gateways(),
    )
    read_breakers = {
        name: (entry.get("breaker") or {}).get("state", "closed")
        for name, entry in (await combined_systems(layer)).items()
    }
    write_breakers = await combined_write_breakers(layer)
    stats = await layer.outbox.stats()
    retrying: dict[str, int] = {}
    for row in await layer.outbox.effects(status="pending", limit=RETRYING_SCAN):
        if row.attempts > 0 or row.last_error:
            retrying[row.system] = retrying.get(row.system, 0) + 1
    queued = stats.get("systems") or {}
    names = sorted({*read_breakers, *write_breakers, *windows})
    systems: dict[str, Any] = {}
    for name in names:
        seen = windows.get(name, {})
        entry: dict[str, Any] = {"p95_target_ms": _sla_p95(layer, name)}
        if name in read_breakers or "read" in seen:
            policy = layer.policies.for_system(name)
            entry["read"] = {
                **seen.get("read", _EMPTY),
                "breaker": read_breakers.get(name, "closed"),
                "slow_call_ms": policy.breaker.slow_call_ms,
            }
        if name in write_breakers or "write" in seen or name in queued:
            counts = queued.get(name) or {}
            entry["write"] = {
                **seen.get("write", _EMPTY),
                "breaker": write_breakers.get(name, "closed"),
                "pending": int(counts.get("pending") or 0),
                "in_flight": int(counts.get("in_flight") or 0),
                "retrying": retrying.get(name, 0),
                "dead": int(counts.get("dead") or 0),
                "delivered": int(counts.get("delivered") or 0),
                "oldest_pending_age_s": counts.get("oldest_pending_age_s"),
            }
        systems[name] = entry
    return {
        "window_s": window_s,
        "recent_s": min(RECENT_S, window_s),
        "at": now,
        "systems": systems,
    }


def _sla_p95(layer: Integration, name: str) -> float | None:
    entry = layer.system_map.systems.get(name)
    return entry.sla.p95_ms if entry is not None else None
