"""The system map over HTTP, for the dashboard: the map itself, blast radius, design review."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse

from integration.policies.models import PolicyBook
from integration.systemmap.blast import blast_radius
from integration.systemmap.model import SystemMap
from integration.systemmap.review import capacity, design_review

__all__ = ["system_map_router"]


def system_map_router(system_map: SystemMap, policies: PolicyBook) -> APIRouter:
    router = APIRouter(tags=["system map"])

    @router.get("/system-map", summary="Teams, systems (with their policies) and flows")
    async def the_map() -> dict[str, Any]:
        body = system_map.model_dump(mode="json", exclude={"defaults", "outbox"})
        for name, entry in body["systems"].items():
            entry["policy"] = policies.for_system(name).model_dump(mode="json")
        for name, flow in body["flows"].items():
            cap = capacity(system_map.flows[name], policies)
            flow["capacity"] = {
                "calls_per_hour_limit": cap.calls_per_hour_limit,
                "bottleneck": cap.bottleneck,
            }
        return body

    @router.get("/system-map/blast-radius", summary="What breaks if a system is down or slow")
    async def blast(
        system: str = Query(..., min_length=1),
        condition: Literal["down", "slow"] = "down",
    ) -> dict[str, Any]:
        try:
            return blast_radius(system_map, policies, system, condition).as_json()
        except KeyError as exc:
            raise HTTPException(422, detail=str(exc.args[0])) from None

    @router.get(
        "/system-map/flows/{flow}/review",
        response_class=PlainTextResponse,
        summary="The eight-question design review of a flow (Markdown)",
    )
    async def review(flow: str) -> str:
        try:
            return design_review(system_map, policies, flow)
        except KeyError as exc:
            raise HTTPException(404, detail=str(exc.args[0])) from None

    return router
