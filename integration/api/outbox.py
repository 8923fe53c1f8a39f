"""The write path over HTTP: watch the outbox, replay dead letters, manual payments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam

from integration.api.bodies import field_error
from integration.api.calls import effect_views
from integration.api.layer import layer_of
from integration.api.workers import combined_write_breakers

__all__ = ["router"]

router = APIRouter(tags=["write path"])
_STATUSES = "^(pending|in_flight|delivered|dead)$"


@router.get("/outbox", summary="Outbox depth, oldest pending effect, deliveries, dead letters")
async def summary(request: Request) -> dict[str, Any]:
    layer = layer_of(request)
    stats = await layer.outbox.stats()
    layer.outbox_metrics.set_counts(stats)
    breakers = await combined_write_breakers(layer)
    for system, counts in stats.get("systems", {}).items():
        counts["breaker"] = breakers.get(system)
    return {**stats, **layer.delivery_summary()}


@router.get("/outbox/effects", summary="Effects, newest first")
async def effects(
    request: Request,
    status: str | None = Query(None, pattern=_STATUSES),
    system: str | None = Query(None, max_length=40),
    call_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    rows = await layer_of(request).outbox.effects(
        status=status, system=system, call_id=call_id, limit=limit
    )
    return {"effects": await effect_views(request, rows)}


@router.get("/outbox/dead", summary="Dead letters: effects that could not be delivered")
async def dead_letters(
    request: Request,
    system: str | None = Query(None, max_length=40),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    rows = await layer_of(request).outbox.effects(status="dead", system=system, limit=limit)
    return {"effects": await effect_views(request, rows)}


@router.post("/outbox/dead/replay", summary="Replay every dead letter of one system")
async def replay_system(
    request: Request, system: str = Query(..., min_length=1, max_length=40)
) -> dict[str, Any]:
    layer = layer_of(request)
    if system not in layer.write_executors:
        known = ", ".join(sorted(layer.write_executors))
        raise field_error(
            "query", "system", "enum", f"not a system the outbox writes to: one of {known}"
        )
    replayed = await layer.outbox.replay_system(system)
    layer.wake_dispatcher()
    return {"replayed": replayed, "count": len(replayed)}


@router.post("/outbox/dead/{effect_id}/replay", summary="Replay one dead letter")
async def replay_one(
    request: Request, effect_id: int = PathParam(..., ge=1, le=2**63 - 1)
) -> dict[str, Any]:
    layer = layer_of(request)
    try:
        replayed = await layer.outbox.replay(effect_id)
    except KeyError:
        raise HTTPException(404, detail="no such effect") from None
    except ValueError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    layer.wake_dispatcher()
    return {"replayed": replayed}


@router.get(
    "/payments/manual", summary="Card payments taken for manual processing (last four only)"
)
async def manual_payments(
    request: Request, limit: int = Query(100, ge=1, le=1000)
) -> dict[str, Any]:
    return {"payments": await layer_of(request).outbox.manual_payments(limit)}
