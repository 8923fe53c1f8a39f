"""Did every acknowledged write land exactly once? Waiting for the outbox, then counting.

Each effect the service acknowledged is looked up twice: in the outbox (its final status:
delivered, dead, or still pending when the wait ran out) and in the ledger of the mock
system it was meant for (applied, and how often). Applied once is right; applied twice
is a duplicate; neither applied, nor dead, nor still pending is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.scenarios.chaos import ChaosControl
from app.simulator.results import CallResult, EffectAck

__all__ = ["DrainResult", "WriteCount", "count_writes", "ledger_marks", "wait_for_drain"]

_PARALLEL = 16  # outbox queries at once


@dataclass
class DrainResult:
    drained: bool
    waited_s: float
    outbox: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteCount:
    acknowledged: int = 0
    applied: int = 0
    dead: int = 0
    pending: int = 0
    lost: int = 0
    duplicates: int = 0
    by_system: dict[str, dict[str, int]] = field(default_factory=dict)
    lost_keys: list[str] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)
    dead_reasons: dict[str, int] = field(default_factory=dict)


async def _effects_of(http: httpx.AsyncClient, call_ids: Iterable[str]) -> dict[str, list[Any]]:
    gate = asyncio.Semaphore(_PARALLEL)

    async def one(call_id: str) -> tuple[str, list[Any]]:
        async with gate:
            response = await http.get("/outbox/effects", params={"call_id": call_id, "limit": 1000})
            response.raise_for_status()
            return call_id, list(response.json()["effects"])

    return dict(await asyncio.gather(*(one(c) for c in call_ids)))


async def wait_for_drain(
    http: httpx.AsyncClient,
    call_ids: Sequence[str],
    timeout_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    every_s: float = 0.25,
) -> DrainResult:
    """Until the outbox holds nothing pending or in flight (``GET /outbox``), or, when other
    traffic keeps it busy, until none of *these* calls' effects is; at most ``timeout_s``."""
    began = clock()
    waiting = list(call_ids)
    summary: dict[str, Any] = {}
    while True:
        summary = (await http.get("/outbox")).json()
        if summary.get("pending", 0) + summary.get("in_flight", 0) == 0:
            return DrainResult(True, clock() - began, summary)
        if waiting:
            found = await _effects_of(http, waiting)
            busy = ("pending", "in_flight")
            waiting = [
                c for c, effects in found.items() if any(e["status"] in busy for e in effects)
            ]
        if not waiting:
            return DrainResult(True, clock() - began, summary)
        if clock() - began >= timeout_s:
            return DrainResult(False, clock() - began, summary)
        await sleep(every_s)


async def ledger_marks(control: ChaosControl, systems: Iterable[str]) -> dict[str, int]:
    """How many entries each ledger holds now: later counting reads only what came after."""
    marks = {}
    for system in systems:
        try:
            marks[system] = int((await control.ledger(system))["count"])
        except (httpx.HTTPError, KeyError, ValueError):
            marks[system] = 0
    return marks


async def count_writes(
    http: httpx.AsyncClient,
    control: ChaosControl,
    results: Sequence[CallResult],
    marks: dict[str, int],
) -> WriteCount:
    acked: dict[str, EffectAck] = {a.idempotency_key: a for r in results for a in r.effects}
    count = WriteCount(acknowledged=len(acked))
    calls = sorted({r.call_id for r in results if r.effects})
    status_of: dict[str, dict[str, Any]] = {}
    for effects in (await _effects_of(http, calls)).values():
        for effect in effects:
            status_of[effect["idempotency_key"]] = effect
    applied_keys: set[str] = set()
    for system in sorted({a.system for a in acked.values()}):
        ledger = await control.ledger(system, marks.get(system, 0))
        applied_keys |= {
            e["idempotency_key"] for e in ledger["entries"] if e.get("idempotency_key") in acked
        }
        count.duplicate_keys += [k for k in ledger["duplicate_keys"] if k in acked]
    for key, ack in acked.items():
        row = count.by_system.setdefault(
            ack.system, {"acknowledged": 0, "applied": 0, "dead": 0, "pending": 0, "lost": 0}
        )
        row["acknowledged"] += 1
        effect = status_of.get(key) or {}
        if key in applied_keys:
            verdict = "applied"
        elif effect.get("status") == "dead":
            verdict = "dead"
            reason = str(effect.get("dead_reason"))
            count.dead_reasons[reason] = count.dead_reasons.get(reason, 0) + 1
        elif effect.get("status") in ("pending", "in_flight"):
            verdict = "pending"
        else:
            verdict = "lost"
            count.lost_keys.append(key)
        row[verdict] += 1
        setattr(count, verdict, getattr(count, verdict) + 1)
    count.duplicates = len(count.duplicate_keys)
    return count
