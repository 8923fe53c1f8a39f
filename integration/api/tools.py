"""The voice agent's tools over HTTP: the list, and one tool run for a live call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse

from integration.api.bodies import ToolCallBody, json_body, validated
from integration.api.layer import layer_of
from integration.calls.ids import CALL_ID_PATTERN
from integration.tools import (
    CallHasEnded,
    ToolArgumentsError,
    UnknownCall,
    UnknownTool,
    openai_tools,
)

__all__ = ["router"]

router = APIRouter(tags=["tools"])


@router.get("/tools", summary="The tools, as OpenAI function-calling definitions")
async def listed() -> dict[str, Any]:
    return {"tools": openai_tools()}


@router.post(
    "/calls/{call_id}/tools/{name}",
    summary="Run one tool for a live call",
    openapi_extra=json_body(ToolCallBody),
)
async def run(
    request: Request, name: str, call_id: str = Path(..., pattern=CALL_ID_PATTERN)
) -> JSONResponse:
    layer = layer_of(request)
    if name not in layer.tools.tools:
        raise HTTPException(404, detail=f"no tool {name!r}; GET /tools lists them")
    body = await validated(ToolCallBody, request)
    if isinstance(body, JSONResponse):
        return body
    try:
        result = await layer.tools.run(
            call_id,
            name,
            body.arguments,
            turn_budget_ms=body.turn_budget_ms,
            filler_threshold_ms=body.filler_threshold_ms,
            origin="api",
        )
    except ToolArgumentsError as exc:
        return JSONResponse(status_code=422, content={"detail": exc.errors})
    except UnknownCall:
        raise HTTPException(404, detail=f"no call {call_id!r}; start it with POST /calls") from None
    except UnknownTool:
        raise HTTPException(404, detail=f"no tool {name!r}; GET /tools lists them") from None
    except CallHasEnded:
        raise HTTPException(409, detail=f"call {call_id!r} has ended") from None
    return JSONResponse(result.model_dump(mode="json"))
