"""Driving simulated calls at the integration service: Poisson arrivals, bounded concurrency.

Arrivals are open-loop (the next call comes when the clock says, not when the last one
finished), as real callers do; when every slot is busy the arrival is shed and counted,
so a slow service shows up as shed calls instead of silently lowering the offered rate.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from app.simulator.conversation import CallFailed, Conversation, Escalated, Pacing
from app.simulator.journeys import DEFAULT_MIX, JOURNEYS
from app.simulator.personas import PersonaBook
from app.simulator.results import CallResult, EffectAck, percentile

__all__ = ["SimulationConfig", "SimulationReport", "Simulator", "Tally"]

_SLOT_EPOCH = datetime(2031, 1, 6, tzinfo=UTC)  # a Monday, well after any seeded event
_SLOT_DAYS = 25_000  # about 68 years of future days to spread bookings over
_SLOTS_PER_DAY = 28  # half-hour slots from 07:00 to 21:00


@dataclass(frozen=True)
class SimulationConfig:
    integration_url: str = "http://127.0.0.1:8000"
    api_token: str = field(default="", repr=False)
    rate_per_s: float = 5.0
    duration_s: float = 60.0
    seed: int | None = None
    concurrency: int = 64
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    pacing: Pacing = field(default_factory=Pacing)
    call_prefix: str = "sim"
    grace_s: float = 60.0  # how long calls under way may finish after the last arrival
    keep: int = 100_000  # finished calls kept for the summary (a run "forever" keeps the latest)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.mix) - set(JOURNEYS))
        if unknown:
            raise ValueError(f"unknown journeys {unknown}; known: {sorted(JOURNEYS)}")
        if not any(w > 0 for w in self.mix.values()) or any(w < 0 for w in self.mix.values()):
            raise ValueError("journey weights must be >= 0 with at least one above 0")


@dataclass
class Tally:
    """Live counters, read once a second by the progress line."""

    started: int = 0
    finished: int = 0
    shed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lookup_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))  # the latest

    def lookup_p95(self) -> float | None:
        return percentile(list(self.lookup_ms), 95)


@dataclass
class SimulationReport:
    config: SimulationConfig
    seed: int
    results: list[CallResult]
    shed: int
    elapsed_s: float
    started_at: str
    started: int = 0  # calls started (more than ``results`` when a long run kept the latest)


class Simulator:
    def __init__(
        self,
        config: SimulationConfig,
        personas: PersonaBook,
        *,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.personas = personas
        self.clock = clock
        self.sleep = sleep
        self.seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        for name, weight in config.mix.items():
            kinds = JOURNEYS[name].personas
            if weight > 0 and not any(kind in personas.by_kind for kind in kinds):
                raise ValueError(
                    f"journey {name} needs callers of kinds {sorted(set(kinds))}; "
                    f"the dataset has {sorted(personas.by_kind)}"
                )
        self.tally = Tally()
        self.results: deque[CallResult] = deque(maxlen=config.keep)
        self._run_token = secrets.token_hex(3)  # call ids stay unique on a long-lived service
        # A random stretch of future slots per run: bookings of two runs do not collide.
        self._slot_base = secrets.randbelow(_SLOT_DAYS * _SLOTS_PER_DAY - 100_000)
        self._began = 0.0

    async def run(self, stop: asyncio.Event | None = None) -> SimulationReport:
        """Start calls until ``duration_s`` passes (or ``stop`` is set), then let the calls
        under way finish (at most ``grace_s``)."""
        config = self.config
        stop = stop or asyncio.Event()
        rng = random.Random(self.seed)
        names = [n for n, w in config.mix.items() if w > 0]
        weights = [config.mix[n] for n in names]
        limits = httpx.Limits(max_connections=config.concurrency * 2)
        timeout = httpx.Timeout(config.pacing.http_timeout_s)
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._began = self.clock()
        slots = asyncio.Semaphore(config.concurrency)
        calls: set[asyncio.Task[None]] = set()
        headers = {"Authorization": f"Bearer {config.api_token}"}
        async with httpx.AsyncClient(
            base_url=config.integration_url, headers=headers, limits=limits, timeout=timeout
        ) as http:
            n = 0
            next_at = 0.0
            while not stop.is_set():
                next_at += rng.expovariate(config.rate_per_s)
                if next_at >= config.duration_s:
                    break
                wait = next_at - (self.clock() - self._began)
                if wait > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), wait)
                        break
                    except TimeoutError:
                        pass
                journey = rng.choices(names, weights)[0]
                if slots.locked():
                    self.tally.shed += 1
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._call(http, n, journey, slots))
                calls.add(task)
                task.add_done_callback(calls.discard)
                n += 1
            if calls:
                _, late = await asyncio.wait(calls, timeout=config.grace_s)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        elapsed = self.clock() - self._began
        results = sorted(self.results, key=lambda r: r.started_s)
        return SimulationReport(
            config, self.seed, results, self.tally.shed, elapsed, started_at, self.tally.started
        )

    def _slot(self, n: int) -> datetime:
        index = self._slot_base + n
        day, half_hour = divmod(index, _SLOTS_PER_DAY)
        return _SLOT_EPOCH + timedelta(days=day, hours=7, minutes=30 * half_hour)

    async def _call(
        self, http: httpx.AsyncClient, n: int, journey: str, slots: asyncio.Semaphore
    ) -> None:
        rng = random.Random(f"{self.seed}-{n}")  # per call: replays whatever the interleaving
        chosen = JOURNEYS[journey]
        persona = self.personas.pick(chosen.personas, rng)
        result = CallResult(
            call_id=f"{self.config.call_prefix}-{self._run_token}-{n:05d}",
            journey=journey,
            persona=persona.kind,
            started_s=round(self.clock() - self._began, 3),
        )
        call = Conversation(
            http,
            result,
            persona,
            rng=rng,
            slot=self._slot(n),
            pacing=self.config.pacing,
            clock=self.clock,
            sleep=self.sleep,
        )
        self.tally.started += 1
        began = self.clock()
        try:
            await self._converse(call, chosen.script)
            await self._resolve_tool_effects(http, result)
        except asyncio.CancelledError:
            result.problems.append("cut off: still running when the run ended")
            result.mark("failed")
            raise
        except Exception as exc:  # a surprise in one script is that call's failure, not the run's
            result.problems.append(f"simulator: {type(exc).__name__}: {exc}")
            result.mark("failed")
        finally:
            result.duration_ms = round((self.clock() - began) * 1000, 1)
            self.results.append(result)
            self.tally.finished += 1
            self.tally.statuses[result.status] += 1
            if result.lookup_ms is not None:
                self.tally.lookup_ms.append(result.lookup_ms)
            slots.release()

    async def _converse(
        self, call: Conversation, script: Callable[[Conversation], Awaitable[None]]
    ) -> None:
        result = call.result
        try:
            view = await call.start()
            recommendation = view.get("recommendation") or {}
            if recommendation.get("action") == "escalate":
                await call.escalate(str(recommendation.get("reason") or "lookup"), planned=False)
            await script(call)
        except Escalated as escalated:
            await self._end_anyway(call, "escalated", f"Handed to a person: {escalated}")
        except CallFailed as failed:
            result.problems.append(str(failed))
            result.mark("failed")
            if result.lookup_action is not None and not result.ended:
                await self._end_anyway(call, "abandoned", "The call could not be completed.")

    async def _end_anyway(self, call: Conversation, disposition: str, summary: str) -> None:
        try:
            await call.end(disposition, summary)
        except CallFailed as failed:
            call.result.problems.append(str(failed))
            call.result.mark("failed")

    async def _resolve_tool_effects(self, http: httpx.AsyncClient, result: CallResult) -> None:
        """Tools answer with effect ids; the keys the ledgers are checked by come from the
        outbox (one request, only for calls whose tools queued writes)."""
        wanted = {str(i): t.name for t in result.tools for i in t.effect_ids}
        if not wanted:
            return
        try:
            response = await http.get("/outbox/effects", params={"call_id": result.call_id})
            found = response.json().get("effects", []) if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            found = []
        known = {a.idempotency_key for a in result.effects}
        seen: set[str] = set()
        for effect in found:
            via = wanted.get(str(effect.get("id")))
            if via is None:
                continue
            seen.add(str(effect["id"]))
            if effect["idempotency_key"] not in known:
                ack = EffectAck(
                    system=effect["system"],
                    idempotency_key=effect["idempotency_key"],
                    effect_id=effect.get("id"),
                    via=via,
                )
                result.effects.append(ack)
        if seen != set(wanted):
            result.problems.append("some tool effects could not be found in the outbox")
