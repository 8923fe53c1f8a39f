"""Watching the service: events, each source's health, Prometheus metrics, liveness, and
the scenario runner's scorecards. With several workers each answer covers them all:
events and scorecards come from the store, health from every live worker's heartbeat."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from integration.api.bodies import ScenarioResultIn, validated
from integration.api.layer import layer_of
from integration.api.spec import json_body
from integration.api.system_health import system_health
from integration.api.workers import combined_systems, snapshots
from integration.store.scorecards import ScorecardTooLarge

__all__ = ["router"]

router = APIRouter(tags=["observability"])
_POLL_S = 0.1  # how often a long-polling reader looks at the store for other workers' events


@router.get("/events", summary="What happened, after a cursor (long-poll with wait_s)")
async def events(
    request: Request,
    cursor: int = Query(0, ge=0, le=2**62, description="the last seq you have seen"),
    limit: int = Query(500, ge=1, le=5000),
    call_id: str | None = Query(None, max_length=64),
    kind: str | None = Query(None, max_length=32),
    wait_s: float = Query(0, ge=0, le=30, description="wait this long for new events"),
) -> dict[str, Any]:
    sink = layer_of(request).sink
    store = sink.store
    if store is None:  # events kept in memory only: this worker's recent ones
        stream = sink.stream
        if wait_s:
            await stream.wait_for(cursor, wait_s)
        found, next_cursor = stream.since(cursor, limit, call_id=call_id, kind=kind)
        return {
            "events": [_plain(e) for e in found],
            "next_cursor": next_cursor,
            "oldest_seq": stream.oldest_seq,
            "gap": cursor + 1 < stream.oldest_seq,
        }
    gives_up = time.monotonic() + wait_s
    while True:
        found, next_cursor = await store.query(cursor, limit, call_id=call_id, kind=kind)
        left = gives_up - time.monotonic()
        if found or left <= 0:
            break
        mine = sink.stream.last_seq
        await sink.stream.wait_for(mine, min(left, _POLL_S))
    return {
        "events": [_plain(e) for e in found],
        "next_cursor": next_cursor,
        "oldest_seq": found[0].seq if found else next_cursor + 1,
        "gap": False,
    }


@router.get("/systems", summary="Each source's breaker, bulkhead, budget and latency")
async def systems(request: Request) -> dict[str, Any]:
    return await combined_systems(layer_of(request))


@router.get(
    "/systems/health",
    summary="Each system over one rolling window: errors, latency, breaker, outbox",
)
async def systems_health(
    request: Request,
    window_s: float = Query(30.0, ge=5, le=300, description="the window's length, seconds"),
) -> dict[str, Any]:
    return await system_health(layer_of(request), window_s)


@router.get("/workers", summary="The workers serving this service, and what each last said")
async def workers(request: Request) -> dict[str, Any]:
    layer = layer_of(request)
    live = {w.worker: w for w in await layer.workers.live()}
    shown = []
    for name, snapshot in (await snapshots(layer)).items():
        info = live.get(name)
        shown.append(
            {
                "worker": name,
                "this": name == layer.worker,
                "pid": info.pid if info else None,
                "host": info.host if info else None,
                "heartbeat_at": info.heartbeat_at if info else None,
                "delivery": snapshot.get("delivery"),
                "admission": snapshot.get("admission"),
                "store": snapshot.get("store"),
            }
        )
    return {"workers": shown}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    layer = layer_of(request)
    stats, active = await asyncio.gather(layer.outbox.stats(), layer.calls.active())
    layer.outbox_metrics.set_counts(stats)
    metrics = layer.sink.metrics
    metrics.calls_in_flight.set(active)
    metrics.admission_limit.set(layer.admission.limit)
    metrics.loop_lag.set(layer.admission.queue_ms / 1000)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get("/health", summary="Liveness")
async def health(request: Request) -> dict[str, Any]:
    layer = layer_of(request)
    return {"status": "ok", "worker": layer.worker, "workers": layer.settings.workers}


@router.post(
    "/scenarios/results",
    status_code=201,
    summary="Keep a scenario's scorecard",
    openapi_extra=json_body(ScenarioResultIn),
)
async def add_scenario_result(request: Request) -> Any:
    result = await validated(ScenarioResultIn, request)
    if isinstance(result, JSONResponse):
        return result
    try:
        count = await layer_of(request).scorecards.add(
            result.name, result.started_at, result.passed, result.scorecard
        )
    except ScorecardTooLarge as exc:
        detail = [{"type": "too_large", "loc": ["body", "scorecard"], "msg": str(exc)}]
        return JSONResponse(status_code=413, content={"detail": detail})
    return {"stored": True, "count": count}


@router.get("/scenarios/results", summary="Recent scenario scorecards, newest first")
async def list_scenario_results(request: Request) -> dict[str, Any]:
    return {"results": await layer_of(request).scorecards.newest()}


def _plain(event: Any) -> Any:
    if is_dataclass(event) and not isinstance(event, type):
        return asdict(event)
    if isinstance(event, BaseModel):
        return event.model_dump(mode="json")
    return event
