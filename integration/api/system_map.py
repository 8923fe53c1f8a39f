"""The system map over HTTP, for the dashboard: the map itself, blast radius, design review."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from integration.api.bodies import field_error
from integration.api.layer import layer_of
from integration.systemmap.blast import blast_radius
from integration.systemmap.review import capacity, design_review

__all__ = ["router"]

router = APIRouter(tags=["system map"])


@router.get("/system-map", summary="Teams, systems (with their policies) and flows")
async def the_map(request: Request) -> dict[str, Any]:
    layer = layer_of(request)
    system_map, policies = layer.system_map, layer.policies
    body = system_map.model_dump(mode="json", exclude={"defaults", "outbox", "admission"})
    for name, entry in body["systems"].items():
        entry["policy"] = policies.for_system(name).model_dump(mode="json")
    for name, flow in body["flows"].items():
        cap = capacity(system_map.flows[name], policies)
        flow["capacity"] = {
            "calls_per_hour_limit": cap.calls_per_hour_limit,
            "bottleneck": cap.bottleneck,
        }
    # Each middleware gateway, the systems behind it and the steps that cross it (a step's
    # own `path` and `gateway` say the same per step; this is the view from the gateway).
    body["gateways"] = {
        gateway: {
            "fronts": system_map.fronted_by(gateway),
            "steps": [
                {"flow": flow_name, "step": step.name, "system": step.system, "mode": step.mode}
                for flow_name, flow in system_map.flows.items()
                for step in flow.steps
                if step.gateway == gateway
            ],
        }
        for gateway in sorted(set(system_map.gateways().values()))
    }
    return body


@router.get("/system-map/blast-radius", summary="What breaks if a system is down or slow")
async def blast(
    request: Request,
    system: str = Query(..., min_length=1, max_length=64),
    condition: Literal["down", "slow"] = "down",
) -> dict[str, Any]:
    layer = layer_of(request)
    try:
        return blast_radius(layer.system_map, layer.policies, system, condition).as_json()
    except KeyError:
        known = ", ".join(sorted(layer.system_map.systems))
        raise field_error(
            "query", "system", "enum", f"not a system of the map: one of {known}"
        ) from None


@router.get(
    "/system-map/flows/{flow}/review",
    response_class=PlainTextResponse,
    summary="The eight-question design review of a flow (Markdown)",
)
async def review(request: Request, flow: str = PathParam(..., max_length=64)) -> str:
    layer = layer_of(request)
    try:
        return design_review(layer.system_map, layer.policies, flow)
    except KeyError:
        raise HTTPException(404, detail="no such flow; GET /system-map lists them") from None
