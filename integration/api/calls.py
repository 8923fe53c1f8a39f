"""Calls over HTTP: start one (the caller lookup), read it, add to its transcript, barge
in, end it. Each route parses, calls one use case of ``integration.calls``, and answers."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from integration.api.bodies import CALL_ID, NO_CALL, StartCall, TurnIn, call_id_of, validated
from integration.api.front import WAITED_MS, hot
from integration.api.layer import layer_of
from integration.api.spec import json_body
from integration.calls.end import CallEndConflict, UnknownCallToEnd, end_call
from integration.calls.ids import CALL_ID_PATTERN
from integration.calls.start import start_call
from integration.calls.store import CallExists
from integration.calls.turns import add_turn
from integration.outbox.model import EffectRow
from integration.outbox.outcome import CallOutcome

__all__ = ["effect_views", "router"]

router = APIRouter(tags=["calls"])
CallId = Path(..., pattern=CALL_ID_PATTERN)


@hot(
    router,
    "POST",
    "/calls",
    starts_a_call=True,
    status_code=201,
    summary="Start a call: look the caller up",
    response_model=None,
    openapi_extra=json_body(StartCall),
    responses={
        201: {"description": '`{"call_id", "view"}`: the caller view'},
        409: {"description": "a call with this id exists"},
        503: {"description": "too busy to answer in time: try again after Retry-After"},
    },
)
async def start(request: Request) -> Response:
    body = await validated(StartCall, request)
    if isinstance(body, JSONResponse):
        return body
    layer = layer_of(request)
    try:
        record = await start_call(
            layer.start_deps,
            body.phone,
            deadline_ms=body.deadline_ms,
            product=body.product,
            call_id=body.call_id,
            queued_ms=layer.admission.queue_ms + request.scope.get(WAITED_MS, 0.0),
        )
    except CallExists:
        raise HTTPException(409, detail="a call with this call_id exists already") from None
    # Serialised by pydantic's own encoder straight to bytes: the hottest answer the
    # service gives, and a dict round trip through FastAPI's encoder costs ~1 ms more.
    payload = (
        b'{"call_id":'
        + orjson.dumps(record.call_id)
        + b',"view":'
        + record.view.model_dump_json().encode()
        + b"}"
    )
    return Response(payload, status_code=201, media_type="application/json")


@router.get("/calls", summary="Recent calls, newest first")
async def recent(request: Request, limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
    calls = layer_of(request).calls
    return {"total": await calls.count(), "calls": await calls.recent(limit)}


@router.get("/calls/{call_id}", summary="One call, with every step's timing")
async def one(request: Request, call_id: str = CallId) -> dict[str, Any]:
    record = await layer_of(request).calls.get(call_id)
    if record is None:
        raise HTTPException(404, detail=NO_CALL)
    return record.as_json()


@hot(
    router,
    "POST",
    "/calls/{call_id}/turns",
    params=CALL_ID,
    status_code=201,
    summary="Add a transcript turn",
    response_model=None,
    openapi_extra=json_body(TurnIn),
)
async def turn(request: Request) -> Response:
    call_id = call_id_of(request)
    body = await validated(TurnIn, request)
    if isinstance(body, JSONResponse):
        return body
    count = await add_turn(
        layer_of(request).calls, call_id, body.speaker, body.text, body.at_ms, "api"
    )
    if count is None:
        raise HTTPException(404, detail=NO_CALL)
    return JSONResponse({"call_id": call_id, "turns": count}, status_code=201)


@router.post("/calls/{call_id}/barge-in", summary="The caller spoke: cancel tool reads")
async def barge_in(request: Request, call_id: str = CallId) -> dict[str, Any]:
    cancelled = await layer_of(request).tools.barge_in(call_id, "api")
    if cancelled is None:
        raise HTTPException(404, detail=NO_CALL)
    return {"call_id": call_id, "cancelled": cancelled}


@hot(
    router,
    "POST",
    "/calls/{call_id}/end",
    params=CALL_ID,
    status_code=201,
    summary="End a call: its effects are durable before this answers",
    response_model=None,
    openapi_extra=json_body(CallOutcome),
    responses={
        200: {"description": "the same outcome again: the effects already queued"},
        409: {"description": "the call already ended with another outcome"},
    },
)
async def end(request: Request) -> Response:
    call_id = call_id_of(request)
    outcome = await validated(CallOutcome, request)
    if isinstance(outcome, JSONResponse):
        return outcome
    layer = layer_of(request)
    try:  # a bad phone in a message raises InvalidInput: the app's handler makes it a 422
        ended = await end_call(layer.end_deps, call_id, outcome, "api")
    except UnknownCallToEnd:
        raise HTTPException(404, detail=NO_CALL) from None
    except CallEndConflict:
        raise HTTPException(409, detail="the call already ended with another outcome") from None
    body = {
        "call_id": call_id,
        "effects": await effect_views(request, ended.effects),
        "manual_payment": ended.manual_payment,
    }
    return JSONResponse(status_code=201 if ended.created else 200, content=body)


async def effect_views(request: Request, rows: list[EffectRow]) -> list[dict[str, Any]]:
    """Each effect as shown, with ``delivery_status``: for a text Twilio accepted, the
    latest status its callbacks reported (None before the first, and for other kinds)."""
    layer = layer_of(request)
    now = layer.wall_clock()
    shown = [row.view(now) for row in rows]
    sids = {row.id: _message_sid(row) for row in rows}
    statuses = await layer.receipts.statuses([s for s in sids.values() if s])
    for row, view in zip(rows, shown, strict=True):
        sid = sids[row.id]
        view["delivery_status"] = statuses.get(sid) if sid else None
    return shown


def _message_sid(row: EffectRow) -> str | None:
    sid = row.result.get("sid") if row.system == "messaging" and row.result else None
    return sid if isinstance(sid, str) else None
