"""``/_chaos/middleware``: the gateway's field faults (bearer-token guarded)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mocks.middleware.faults import FieldFaults
from mocks.middleware.service import MiddlewareService
from mocks.platform.control import GUARDED
from mocks.platform.state import service_in

__all__ = ["router"]


async def current_gateway(request: Request) -> MiddlewareService:
    return service_in(request, MiddlewareService)


Gateway = Annotated[MiddlewareService, Depends(current_gateway)]

router = APIRouter(dependencies=GUARDED)


@router.get("/transform", summary="The field faults in force")
async def faults(gateway: Gateway) -> dict[str, Any]:
    return {"faults": [fault.model_dump() for fault in gateway.faults]}


@router.put("/transform", summary="Drop or mangle fields of the gateway's answers")
async def set_faults(body: FieldFaults, gateway: Gateway) -> dict[str, Any]:
    gateway.set_faults(body.faults)
    return {"faults": [fault.model_dump() for fault in gateway.faults]}


@router.delete("/transform", summary="Map every field faithfully again")
async def clear_faults(gateway: Gateway) -> dict[str, Any]:
    gateway.clear_faults()
    return {"faults": []}
