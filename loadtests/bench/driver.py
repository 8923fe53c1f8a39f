"""The benchmark's load: call journeys (``loadtests/journeys/calls.py``) started at a fixed
rate over aiohttp, timed to the microsecond, each step's outcome kept.

Open loop: calls arrive on a Poisson schedule whatever the service does, as callers do;
a closed loop of workers would slow down with the service and hide its queueing. A call
the driver itself started late (its loop was busy) is counted, so a run where the load
generator, not the service, fell behind can be told apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
import orjson

from loadtests.journeys.calls import (
    JOURNEYS,
    Caller,
    JourneyRun,
    Reply,
    call_journey,
    pick,
    problem,
)
from mocks.chaos.stats import percentile

__all__ = ["Tally", "drive", "journey_kinds_note", "offered_tools", "session"]

REQUEST_TIMEOUT_S = 30.0
LATE_MS = 50.0  # a call started this much after its arrival time was started late
DRAIN_S = 40.0  # calls in flight when a phase ends get this long to finish


@dataclass
class Tally:
    """One phase's calls."""

    name: str
    rate: float  # calls/s offered
    seconds: float
    started: int = 0
    finished: int = 0  # every step answered (rightly or not)
    failed_calls: int = 0  # calls with at least one wrong answer
    errors: Counter[str] = field(default_factory=Counter)  # what was wrong, by kind
    late: int = 0
    refused: int = 0  # starts turned away at once (503): answers, not failures
    refused_ms: list[float] = field(default_factory=list)
    lookup_ms: list[float] = field(default_factory=list)  # POST /calls, client side
    lookup_server_ms: list[float] = field(default_factory=list)  # the view's elapsed_ms
    lookup_deadline_ms: list[float] = field(default_factory=list)
    end_ms: list[float] = field(default_factory=list)
    tool_ms: dict[str, list[float]] = field(default_factory=dict)
    tool_status: Counter[str] = field(default_factory=Counter)
    degraded_lookups: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> system
    elapsed_s: float = 0.0

    def pct(self, values: list[float], q: float) -> float | None:
        found = percentile(sorted(values), q)
        return round(found, 2) if found is not None else None

    def within(self, slack_ms: float) -> tuple[int, int]:
        """Lookups answered within their deadline + ``slack_ms`` (client side), of all."""
        pairs = zip(self.lookup_ms, self.lookup_deadline_ms, strict=True)
        return sum(ms <= deadline + slack_ms for ms, deadline in pairs), len(self.lookup_ms)


def _record(tally: Tally, step_kind: str, name: str, ms: float, reply: Reply) -> None:
    body = reply.body if isinstance(reply.body, dict) else {}
    if step_kind == "lookup" and reply.status == 503:
        tally.refused += 1
        tally.refused_ms.append(ms)
    elif step_kind == "lookup" and reply.status == 201:
        tally.lookup_ms.append(ms)
        view = body.get("view") or {}
        tally.lookup_server_ms.append(float(view.get("elapsed_ms", 0.0)))
        tally.lookup_deadline_ms.append(float(view.get("deadline_ms", 0.0)))
        if (view.get("recommendation") or {}).get("action") != "carry_on":
            tally.degraded_lookups += 1
    elif step_kind == "tool" and reply.status == 200:
        tally.tool_ms.setdefault(name, []).append(ms)
        tally.tool_status[str(body.get("status"))] += 1
    elif step_kind == "end" and reply.status in (200, 201):
        tally.end_ms.append(ms)
        for effect in body.get("effects", []):
            tally.acknowledged[effect["idempotency_key"]] = effect["system"]


async def _send(
    session: aiohttp.ClientSession, base: str, journey: JourneyRun, tally: Tally
) -> None:
    wrong = False
    try:
        step = next(journey)
        while True:
            began = time.perf_counter()
            try:
                async with session.request(step.method, base + step.path, json=step.body) as r:
                    raw = await r.read()
                    status = r.status
                body = orjson.loads(raw) if raw else None
            except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
                status, body = 0, None
                tally.errors[f"{step.name}: {type(exc).__name__}"] += 1
            reply = Reply(status, body)
            ms = (time.perf_counter() - began) * 1000
            issue = problem(step, reply)
            if issue is not None:
                wrong = True
                if status:
                    tally.errors[issue] += 1
            _record(tally, step.kind, step.name, ms, reply)
            step = journey.send(reply)
    except StopIteration:
        pass
    tally.finished += 1
    tally.failed_calls += wrong


async def offered_tools(session: aiohttp.ClientSession, base: str) -> frozenset[str]:
    async with session.get(base + "/tools") as response:
        response.raise_for_status()
        body = await response.json()
    return frozenset(t["function"]["name"] for t in body["tools"])


async def drive(
    session: aiohttp.ClientSession,
    base: str,
    tally: Tally,
    callers: Sequence[Caller],
    tools: frozenset[str],
    rng: random.Random,
    numbers: itertools.count[int],
    *,
    progress: Callable[[Tally, float], None] | None = None,
    progress_every_s: float = 3.0,
    prefix: str = "bench",
) -> Tally:
    """Start ``tally.rate`` calls a second for ``tally.seconds``, then wait for them."""
    calls: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    next_report = started + progress_every_s
    due = started
    stop_at = started + tally.seconds
    while True:
        due += rng.expovariate(tally.rate)
        if due >= stop_at:
            break
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        elif (now - due) * 1000 > LATE_MS:
            tally.late += 1
        n = next(numbers)
        journey = call_journey(
            pick(rng, JOURNEYS), callers[n % len(callers)], f"{prefix}-{n}", rng, tools
        )
        task = asyncio.create_task(_send(session, base, journey, tally))
        calls.add(task)
        task.add_done_callback(calls.discard)
        tally.started += 1
        if progress is not None and time.perf_counter() >= next_report:
            progress(tally, time.perf_counter() - started)
            next_report += progress_every_s
    if calls:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*calls), DRAIN_S)
    tally.elapsed_s = time.perf_counter() - started
    return tally


def session(headers: dict[str, str], limit: int = 1000) -> aiohttp.ClientSession:
    """One session for the whole run: keep-alive connections, JSON sent with orjson, the
    service's API token on every request."""
    return aiohttp.ClientSession(
        headers=headers,
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        json_serialize=lambda value: orjson.dumps(value).decode(),
    )


def journey_kinds_note() -> str:
    weights = sum(k.weight for k in JOURNEYS)
    return ", ".join(f"{k.name} {k.weight / weights:.0%}" for k in JOURNEYS)
