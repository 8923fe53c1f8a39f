"""The voice agent's tools over HTTP: the list, and one tool run for a live call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from integration.api.bodies import CALL_ID, NO_CALL, ToolCallBody, call_id_of, validated
from integration.api.front import hot
from integration.api.layer import layer_of
from integration.api.spec import json_body
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


@hot(
    router,
    "POST",
    "/calls/{call_id}/tools/{name}",
    params={**CALL_ID, "name": "[a-z_]{1,40}"},
    summary="Run one tool for a live call",
    response_model=None,
    openapi_extra=json_body(ToolCallBody),
)
async def run(request: Request) -> Response:
    call_id, name = call_id_of(request), request.path_params["name"]
    layer = layer_of(request)
    if name not in layer.tools.tools:
        raise HTTPException(404, detail="no such tool; GET /tools lists them")
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
        raise HTTPException(404, detail=NO_CALL) from None
    except UnknownTool:
        raise HTTPException(404, detail="no such tool; GET /tools lists them") from None
    except CallHasEnded:
        raise HTTPException(409, detail="the call has ended") from None
    return JSONResponse(result.model_dump(mode="json"))
