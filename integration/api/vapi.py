"""Vapi's server messages: ``tool-calls`` answered, every other message type ignored."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from integration.api.layer import layer_of
from integration.calls.vapi import answer_tool_calls
from integration.tools import DEFAULT_FILLER_THRESHOLD_MS, DEFAULT_TURN_BUDGET_MS
from integration.tools.vapi import answer, parse_tool_calls

__all__ = ["router"]

router = APIRouter(tags=["voice platforms"])


@router.post("/vapi/webhook", summary="Vapi server messages: answers tool-calls")
async def webhook(
    request: Request,
    turn_budget_ms: float = Query(DEFAULT_TURN_BUDGET_MS, gt=0, le=60_000),
    filler_threshold_ms: float = Query(DEFAULT_FILLER_THRESHOLD_MS, ge=0, le=60_000),
) -> Any:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return JSONResponse(status_code=422, content={"detail": "the body is not JSON"})
    message = parse_tool_calls(body)
    if message is None:
        return {}  # status updates, transcripts, reports: nothing to answer
    results = await answer_tool_calls(
        layer_of(request).vapi_deps,
        message,
        turn_budget_ms=turn_budget_ms,
        filler_threshold_ms=filler_threshold_ms,
    )
    return answer(results)
