"""Vapi's server messages: ``tool-calls`` answered, every other message type ignored."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from integration.api.bodies import read_json
from integration.api.front import hot
from integration.api.layer import layer_of
from integration.calls.vapi import answer_tool_calls
from integration.tools import DEFAULT_FILLER_THRESHOLD_MS, DEFAULT_TURN_BUDGET_MS
from integration.tools.vapi import answer, parse_tool_calls

__all__ = ["router"]

router = APIRouter(tags=["voice platforms"])


class _Budgets(BaseModel):
    turn_budget_ms: float = Field(DEFAULT_TURN_BUDGET_MS, gt=0, le=60_000)
    filler_threshold_ms: float = Field(DEFAULT_FILLER_THRESHOLD_MS, ge=0, le=60_000)


_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": field}
    for name, field in _Budgets.model_json_schema()["properties"].items()
]


@hot(
    router,
    "POST",
    "/vapi/webhook",
    summary="Vapi server messages: answers tool-calls",
    response_model=None,
    openapi_extra={"parameters": _QUERY},
)
async def webhook(request: Request) -> Response:
    try:
        budgets = _Budgets.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        detail = [{"type": e["type"], "loc": ["query", *e["loc"]], "msg": e["msg"]} for e in errors]
        return JSONResponse(status_code=422, content={"detail": detail})
    body = read_json(await request.body() or b"{}")
    if isinstance(body, JSONResponse):
        return body
    message = parse_tool_calls(body)
    if message is None:
        return JSONResponse({})  # status updates, transcripts, reports: nothing to answer
    results = await answer_tool_calls(
        layer_of(request).vapi_deps,
        message,
        turn_budget_ms=budgets.turn_budget_ms,
        filler_threshold_ms=budgets.filler_threshold_ms,
    )
    return JSONResponse(answer(results))
