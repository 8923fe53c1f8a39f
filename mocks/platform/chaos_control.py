"""``/_chaos``: the fault control plane (bearer-token protected).

Bodies are bounded by their models (finite, not negative, capped) and latencies by the hang
limit of the running mocks; a refusal is FastAPI's 422 naming the field, without the input.
"""

from __future__ import annotations

import random
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mocks.chaos.engine import ChaosEngine
from mocks.chaos.latency import sample_latency_ms
from mocks.chaos.models import (
    MAX_SECONDS,
    MAX_SEED,
    ChaosProfile,
    FaultProfile,
    OutageWindow,
    latencies_over,
)
from mocks.platform.control import GUARDED, unknown_system
from mocks.platform.state import enterprise_of

__all__ = ["router"]


class OutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(..., gt=0, le=MAX_SECONDS, description="how long the system stays down")
    start_in_s: float = Field(
        0.0, ge=0, le=MAX_SECONDS, description="delay before the outage begins"
    )


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = Field(..., ge=0, le=MAX_SEED)


router = APIRouter(prefix="/_chaos", tags=["chaos"], dependencies=GUARDED)


def _engine(request: Request) -> ChaosEngine:
    return enterprise_of(request).chaos


def _within_hang_limit(request: Request, profile: FaultProfile, *where: str) -> None:
    """A 422 naming each latency above the hang limit: no delay outlasts a hang."""
    max_ms = enterprise_of(request).settings.max_hang_s * 1000
    detail = [
        {"type": "less_than_equal", "loc": ["body", *where, *loc], "msg": why}
        for loc, why in latencies_over(profile, max_ms)
    ]
    if detail:
        raise HTTPException(status_code=422, detail=detail)


def _known(request: Request, system: str, loc: tuple[str, ...] = ("path", "system")) -> str:
    systems = enterprise_of(request).services
    if system not in systems:
        raise unknown_system(systems, loc)
    return system


@router.get("", summary="Active faults and the seed")
def describe(request: Request) -> dict[str, Any]:
    services = enterprise_of(request).services
    own = {name: s.active_faults() for name, s in services.items() if s.active_faults()}
    return {"known_systems": sorted(services), **_engine(request).describe(), "system_faults": own}


@router.put("/systems/{system}", summary="Replace a system's fault profile")
def set_profile(request: Request, system: str, profile: FaultProfile) -> dict[str, Any]:
    engine = _engine(request)
    _within_hang_limit(request, profile)
    engine.set_profile(_known(request, system), profile)
    return engine.describe()["systems"][system]  # type: ignore[index]


@router.get("/systems/{system}", summary="A system's fault profile")
def get_profile(request: Request, system: str) -> dict[str, Any]:
    profile = _engine(request).profile_of(_known(request, system))
    return {"system": system, "profile": profile.model_dump(mode="json") if profile else None}


@router.delete("/systems/{system}", summary="Clear a system's faults")
def clear_profile(request: Request, system: str) -> dict[str, str]:
    _engine(request).clear(_known(request, system))
    return {"system": system, "status": "cleared"}


@router.post("/systems/{system}/outage", summary="Take a system down for a while")
def outage(request: Request, system: str, body: OutageRequest) -> dict[str, Any]:
    engine = _engine(request)
    window = OutageWindow(start_s=body.start_in_s, duration_s=body.seconds)
    engine.add_outage(_known(request, system), window)
    return engine.describe()["systems"][system]  # type: ignore[index]


@router.get("/systems/{system}/latency-sample", summary="Draw from the configured latency")
def latency_sample(
    request: Request,
    system: str,
    n: int = Query(1000, ge=1, le=100_000),
    seed: int | None = Query(None, ge=0, le=MAX_SEED),
) -> dict[str, Any]:
    """Samples from the system's latency distribution without sleeping, for checking it."""
    engine = _engine(request)
    profile = engine.profile_of(_known(request, system))
    if profile is None or profile.latency is None:
        return {"system": system, "samples_ms": []}
    rng = random.Random(engine.seed if seed is None else seed)
    return {
        "system": system,
        "samples_ms": [sample_latency_ms(profile.latency, rng) for _ in range(n)],
    }


@router.post("/profile", summary="Apply a whole profile (the YAML file's shape)")
def apply_profile(request: Request, profile: ChaosProfile) -> dict[str, Any]:
    for name, faults in profile.systems.items():
        _known(request, name, ("body", "systems"))
        _within_hang_limit(request, faults, "systems", name)
    engine = _engine(request)
    engine.apply(profile)
    return engine.describe()


@router.post("/seed", summary="Reseed the random source, to replay a run")
def reseed(request: Request, body: SeedRequest) -> dict[str, int]:
    _engine(request).reseed(body.seed)
    return {"seed": body.seed}


@router.post("/reset", summary="Clear every fault and the statistics")
def reset(request: Request) -> dict[str, str]:
    engine = _engine(request)
    engine.clear()
    for service in enterprise_of(request).services.values():
        service.clear_faults()
    engine.stats.reset()
    engine.reseed(engine.seed)  # a fresh start replays the same sequence
    return {"status": "reset"}


@router.get("/stats", summary="Requests, faults by kind and latency percentiles per system")
def stats(request: Request) -> dict[str, Any]:
    return {"systems": _engine(request).stats.snapshot()}
