"""``/_mock/middleware/...``: the gateway's recent exchanges and what it did to them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from mocks.middleware.control import Gateway

__all__ = ["router"]

router = APIRouter(tags=["middleware"])


@router.get("/exchanges", summary="Recent exchanges: route, source, outcome, correlation id")
async def exchanges(
    gateway: Gateway, limit: int = Query(50, ge=1, le=200, description="the newest N")
) -> dict[str, Any]:
    recent = list(gateway.exchanges)[-limit:]
    return {"count": len(recent), "exchanges": recent}


@router.get("/stats", summary="Exchanges, errors wrapped, fields dropped and mangled")
async def stats(gateway: Gateway) -> dict[str, Any]:
    return gateway.stats()
