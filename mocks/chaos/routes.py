"""``/_chaos``: the fault control plane (bearer-token protected)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from mocks.chaos.engine import ChaosEngine
from mocks.chaos.latency import sample_latency_ms
from mocks.chaos.models import ChaosProfile, FaultProfile, OutageWindow
from mocks.platform.control import require_token, unknown_system
from mocks.platform.service import MockService

__all__ = ["chaos_router"]


class OutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., gt=0, description="how long the system stays down")
    start_in_s: float = Field(0.0, ge=0, description="delay before the outage begins")


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int


def chaos_router(
    engine: ChaosEngine, services: Mapping[str, MockService], token: str
) -> APIRouter:
    systems = tuple(services)
    router = APIRouter(
        prefix="/_chaos", tags=["chaos"], dependencies=[Depends(require_token(token))]
    )

    def known(system: str, loc: tuple[str, ...] = ("path", "system")) -> str:
        if system not in systems:
            raise unknown_system(system, systems, loc)
        return system

    @router.get("", summary="Active faults and the seed")
    def describe() -> dict[str, Any]:
        described = engine.describe()
        own = {name: s.active_faults() for name, s in services.items() if s.active_faults()}
        return {"known_systems": sorted(systems), **described, "system_faults": own}

    @router.put("/systems/{system}", summary="Replace a system's fault profile")
    def set_profile(system: str, profile: FaultProfile) -> dict[str, Any]:
        engine.set_profile(known(system), profile)
        return engine.describe()["systems"][system]  # type: ignore[index]

    @router.get("/systems/{system}", summary="A system's fault profile")
    def get_profile(system: str) -> dict[str, Any]:
        profile = engine.profile_of(known(system))
        return {"system": system, "profile": profile.model_dump(mode="json") if profile else None}

    @router.delete("/systems/{system}", summary="Clear a system's faults")
    def clear_profile(system: str) -> dict[str, str]:
        engine.clear(known(system))
        return {"system": system, "status": "cleared"}

    @router.post("/systems/{system}/outage", summary="Take a system down for a while")
    def outage(system: str, body: OutageRequest) -> dict[str, Any]:
        engine.add_outage(
            known(system), OutageWindow(start_s=body.start_in_s, duration_s=body.seconds)
        )
        return engine.describe()["systems"][system]  # type: ignore[index]

    @router.get("/systems/{system}/latency-sample", summary="Draw from the configured latency")
    def latency_sample(
        system: str, n: int = Query(1000, ge=1, le=100_000), seed: int | None = None
    ) -> dict[str, Any]:
        """Samples from the system's latency distribution without sleeping, for checking it."""
        profile = engine.profile_of(known(system))
        if profile is None or profile.latency is None:
            return {"system": system, "samples_ms": []}
        rng = random.Random(engine.seed if seed is None else seed)
        return {
            "system": system,
            "samples_ms": [sample_latency_ms(profile.latency, rng) for _ in range(n)],
        }

    @router.post("/profile", summary="Apply a whole profile (the YAML file's shape)")
    def apply_profile(profile: ChaosProfile) -> dict[str, Any]:
        for name in profile.systems:
            known(name, ("body", "systems", name))
        engine.apply(profile)
        return engine.describe()

    @router.post("/seed", summary="Reseed the random source, to replay a run")
    def reseed(body: SeedRequest) -> dict[str, int]:
        engine.reseed(body.seed)
        return {"seed": body.seed}

    @router.post("/reset", summary="Clear every fault and the statistics")
    def reset() -> dict[str, str]:
        engine.clear()
        for service in services.values():
            service.clear_faults()
        engine.stats.reset()
        engine.reseed(engine.seed)  # a fresh start replays the same sequence
        return {"status": "reset"}

    @router.get("/stats", summary="Requests, faults by kind and latency percentiles per system")
    def stats() -> dict[str, Any]:
        return {"systems": engine.stats.snapshot()}

    return router
