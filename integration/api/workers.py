"""The service as a whole, from what each live worker said about itself with its last
heartbeat (this worker's own part is taken fresh). A system's breaker shows the worst
state any worker's breaker is in, with each worker's beside it: a source that fails opens
them all within their window, and until it does, someone is still sending it traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["combined_systems", "combined_write_breakers", "snapshots"]

_SEVERITY = {"closed": 0, "half_open": 1, "open": 2}


async def snapshots(layer: Integration) -> dict[str, dict[str, Any]]:
    """Each live worker's snapshot, by worker name."""
    found = {w.worker: w.snapshot for w in await layer.workers.live()}
    found[layer.worker] = layer.snapshot()
    return found


async def combined_systems(layer: Integration) -> dict[str, Any]:
    """``GET /systems``: each read source's breaker, bulkhead, budget and latency."""
    combined: dict[str, Any] = {}
    for worker, snapshot in (await snapshots(layer)).items():
        for name, system in (snapshot.get("systems") or {}).items():
            state = (system.get("breaker") or {}).get("state", "closed")
            entry = combined.get(name)
            if entry is None or _worse(state, entry["breaker"]["state"]):
                in_flight = entry["in_flight"] if entry is not None else 0
                workers = entry["workers"] if entry is not None else {}
                entry = combined[name] = {**system, "in_flight": in_flight, "workers": workers}
            entry["in_flight"] = entry["in_flight"] + int(system.get("in_flight") or 0)
            entry["workers"][worker] = state
    return combined


async def combined_write_breakers(layer: Integration) -> dict[str, str]:
    """Each write target's worst breaker state across the live workers."""
    combined: dict[str, str] = {}
    for snapshot in (await snapshots(layer)).values():
        for name, state in (snapshot.get("write_breakers") or {}).items():
            if name not in combined or _worse(state, combined[name]):
                combined[name] = state
    return combined


def _worse(state: str, than: str) -> bool:
    return _SEVERITY.get(state, 0) > _SEVERITY.get(than, 0)
