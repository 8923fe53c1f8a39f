"""Deciding, per request, what goes wrong: the heart of the chaos engine.

The engine holds the active fault profile per system, one seeded random source per system
(so traffic to one system never shifts another's sequence, and a run can be replayed),
outage windows in absolute clock time, and the quota buckets. It only decides; the gateway
applies the decision to the HTTP exchange.
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from mocks.chaos.latency import sample_latency_ms
from mocks.chaos.models import ChaosProfile, ErrorKind, FaultProfile, OutageWindow, RouteFault
from mocks.chaos.ratelimit import QuotaBuckets
from mocks.chaos.stats import ChaosStats

__all__ = ["ChaosEngine", "Decision"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request: a delay, then perhaps a fault."""

    latency_s: float = 0.0
    fault: str | None = None  # an ErrorKind value, "outage" or "rate_limit"
    retry_after_s: float | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status a status-kind fault answers with."""
        if self.fault == "outage":
            return 503
        if self.fault == "rate_limit":
            return 429
        if self.fault == "revoked":  # the vendor may say so otherwise (Slack: a 200)
            return 401
        if self.fault is not None and self.fault.isdigit():
            return int(self.fault)
        return None


CALM = Decision()


@dataclass
class _Active:
    profile: FaultProfile
    applied_at: float
    outages: list[tuple[float, float]]  # absolute (start, end) clock times
    quotas: dict[int, QuotaBuckets]  # id(RateLimitSpec) -> buckets


class ChaosEngine:
    def __init__(
        self,
        known_systems: tuple[str, ...],
        *,
        seed: int = 42,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.known_systems = known_systems
        self.clock = clock
        self.stats = ChaosStats()
        self._active: dict[str, _Active] = {}
        self.reseed(seed)

    # -- configuration -------------------------------------------------------------
    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rngs = {name: self._rng_for(name) for name in self.known_systems}

    def _rng_for(self, system: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}:{system}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def rng(self, system: str) -> random.Random:
        return self._rngs[system]

    def set_profile(self, system: str, profile: FaultProfile) -> None:
        now = self.clock()
        quotas: dict[int, QuotaBuckets] = {}
        for spec in (profile.rate_limit, *(r.rate_limit for r in profile.routes)):
            if spec is not None:
                quotas[id(spec)] = QuotaBuckets(spec, self.clock)
        self._active[system] = _Active(
            profile=profile,
            applied_at=now,
            outages=[(now + w.start_s, now + w.start_s + w.duration_s) for w in profile.outages],
            quotas=quotas,
        )

    def add_outage(self, system: str, window: OutageWindow) -> None:
        """An outage on top of whatever else the system has (``down for D seconds``)."""
        if system not in self._active:
            self.set_profile(system, FaultProfile())
        now = self.clock()
        self._active[system].outages.append(
            (now + window.start_s, now + window.start_s + window.duration_s)
        )

    def clear(self, system: str | None = None) -> None:
        if system is None:
            self._active.clear()
        else:
            self._active.pop(system, None)

    def apply(self, profile: ChaosProfile) -> None:
        if profile.seed is not None:
            self.reseed(profile.seed)
        for system, faults in profile.systems.items():
            self.set_profile(system, faults)

    def profile_of(self, system: str) -> FaultProfile | None:
        active = self._active.get(system)
        return active.profile if active else None

    def describe(self) -> dict[str, object]:
        now = self.clock()
        systems: dict[str, object] = {}
        for name, active in sorted(self._active.items()):
            systems[name] = {
                "profile": active.profile.model_dump(mode="json", exclude_defaults=True),
                "down_now": any(start <= now < end for start, end in active.outages),
                "outages": [
                    {"starts_in_s": round(start - now, 3), "ends_in_s": round(end - now, 3)}
                    for start, end in active.outages
                    if end > now
                ],
            }
        return {"seed": self.seed, "systems": systems}

    # -- the per-request decision ------------------------------------------------------
    def decide(self, system: str, method: str, path: str, *, credential: str, ip: str) -> Decision:
        active = self._active.get(system)
        if active is None:
            return CALM
        now = self.clock()
        if any(start <= now < end for start, end in active.outages):
            return Decision(fault="outage")
        faults: FaultProfile | RouteFault = _match_route(active.profile, method, path)
        rng = self._rngs[system]
        latency_s = sample_latency_ms(faults.latency, rng) / 1000 if faults.latency else 0.0
        if faults is not active.profile and _in_window(faults.outages, active.applied_at, now):
            return Decision(latency_s, fault="outage")
        if faults.rate_limit is not None:
            key = {"global": "global", "ip": ip, "credential": credential}[faults.rate_limit.key]
            wait = active.quotas[id(faults.rate_limit)].take(key)
            if wait is not None:
                return Decision(latency_s, fault="rate_limit", retry_after_s=wait)
        errors = faults.errors
        if errors is not None and errors.rate > 0 and rng.random() < errors.rate:
            kinds = list(errors.kinds)
            kind = rng.choices(kinds, weights=[errors.kinds[k] for k in kinds])[0]
            retry_after = errors.retry_after_s if kind is ErrorKind.RATE_LIMITED else None
            return Decision(latency_s, fault=kind.value, retry_after_s=retry_after)
        return Decision(latency_s) if latency_s else CALM


def _in_window(windows: tuple[OutageWindow, ...], base: float, now: float) -> bool:
    return any(base + w.start_s <= now < base + w.start_s + w.duration_s for w in windows)


def _match_route(profile: FaultProfile, method: str, path: str) -> FaultProfile | RouteFault:
    for route in profile.routes:
        want_method, _, pattern = route.match.partition(" ")
        if want_method in ("*", method) and fnmatch.fnmatchcase(path, pattern):
            return route
    return profile
