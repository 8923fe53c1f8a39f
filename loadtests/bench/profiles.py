"""The benchmark's fixed profiles: the rates it steps through, and the faults it injects.

``default``: fixed latencies only (the lookup benchmark's, so the critical path is known), calls
stepped up through the target rate. ``stormy``: the same latencies, and every HTTP system
fails 10% of requests (5xx and 429) and hangs 2% more, through the chaos API; the rates
stop at the target, since what it shows is that nothing is lost or late, not how far the
layer goes in a storm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PROFILES", "TARGET_CALLS_PER_S", "BenchProfile", "Phase", "storm_faults"]

TARGET_CALLS_PER_S = 100.0  # 360,000 calls an hour on a 2-core laptop
# Every system the layer reaches over HTTP (the database is SQL: no HTTP faults apply).
HTTP_SYSTEMS = (
    "crm",
    "telephony",
    "eligibility",
    "loans",
    "erp",
    "messaging",
    "email",
    "payments",
    "calendar",
    "analytics",
    "slack",
)


@dataclass(frozen=True)
class Phase:
    name: str
    calls_per_s: float
    seconds: float
    measured: bool = True  # False: warm-up, left out of every figure


@dataclass(frozen=True)
class BenchProfile:
    name: str
    phases: tuple[Phase, ...]
    storm: bool = False

    @property
    def target(self) -> Phase:
        """The phase at the target rate: the lookup percentiles and CPU come from it."""
        return next(p for p in self.phases if p.calls_per_s == TARGET_CALLS_PER_S)

    def scaled(self, factor: float) -> BenchProfile:
        """Every phase ``factor`` times as long (a quick look: 0.3; the tests: less)."""
        phases = tuple(
            Phase(p.name, p.calls_per_s, max(1.0, p.seconds * factor), p.measured)
            for p in self.phases
        )
        return BenchProfile(self.name, phases, self.storm)


PROFILES: dict[str, BenchProfile] = {
    "default": BenchProfile(
        "default",
        (
            Phase("warm-up", 20, 5, measured=False),
            Phase("50/s", 50, 10),
            Phase("75/s", 75, 10),
            Phase("100/s", TARGET_CALLS_PER_S, 30),
            Phase("150/s", 150, 10),
            Phase("200/s", 200, 10),
        ),
    ),
    "stormy": BenchProfile(
        "stormy",
        (
            Phase("warm-up", 20, 5, measured=False),
            Phase("50/s", 50, 10),
            Phase("100/s", TARGET_CALLS_PER_S, 30),
        ),
        storm=True,
    ),
}


def storm_faults(latency_ms: float | None) -> dict[str, Any]:
    """One system's fault profile: 10% errors (the kinds a vendor really sends, weighted)
    and 2% hangs, on top of its fixed latency if it has one."""
    profile: dict[str, Any] = {
        "errors": {
            "rate": 0.12,
            "kinds": {"500": 2, "502": 1, "503": 4, "504": 1, "429": 2, "hang": 2},
            "retry_after_s": 1,
        }
    }
    if latency_ms is not None:
        profile["latency"] = {"kind": "fixed", "ms": latency_ms}
    return profile
