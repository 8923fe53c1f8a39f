"""Request bodies, and reading them without echoing anything back.

Bodies are validated here rather than by FastAPI: its 422 echoes the input, and a tool's
arguments, a transcript turn or an outcome may hold a card number. Our 422s name the
field only.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError
from starlette.requests import Request

from integration.calls.ids import CALL_ID_PATTERN, valid_call_id
from integration.tools import DEFAULT_FILLER_THRESHOLD_MS, DEFAULT_TURN_BUDGET_MS

__all__ = [
    "CALL_ID",
    "ScenarioResultIn",
    "StartCall",
    "ToolCallBody",
    "TurnIn",
    "call_id_of",
    "json_body",
    "problem",
    "validated",
]

M = TypeVar("M", bound=BaseModel)
# The call id in a path: what the hot routes (``front.hot``) match it with.
CALL_ID = {"call_id": CALL_ID_PATTERN.strip("^$")}


class StartCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(..., description="the caller's number in any common format", max_length=40)
    deadline_ms: float | None = Field(
        None, gt=0, le=60_000, description="the lookup's budget (default from settings)"
    )
    product: str | None = Field(
        None, pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$", description="product code for eligibility"
    )
    call_id: str | None = Field(None, pattern=CALL_ID_PATTERN)


class ToolCallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: dict[str, Any] = Field(default_factory=dict)
    turn_budget_ms: float = Field(DEFAULT_TURN_BUDGET_MS, gt=0, le=60_000)
    filler_threshold_ms: float = Field(DEFAULT_FILLER_THRESHOLD_MS, ge=0, le=60_000)


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["caller", "agent"]
    text: str = Field(..., max_length=4000)
    at_ms: float | None = Field(None, ge=0, description="since the call started (default: now)")


class ScenarioResultIn(BaseModel):
    name: StrictStr = Field(..., min_length=1, max_length=200)
    started_at: StrictStr = Field(..., min_length=1, max_length=64)
    scorecard: dict[str, Any]
    passed: StrictBool


async def validated(model: type[M], request: Request) -> M | JSONResponse:
    """The body as ``model``, or a 422 naming each bad field without echoing any input."""
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        errors = [
            {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        return JSONResponse(status_code=422, content={"detail": errors})


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads ``model`` itself (``validated``)."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"required": True, "content": {"application/json": schema}}}


def call_id_of(request: Request) -> str:
    """The path's call id, or a 422 naming it (ids become idempotency keys: plain ones)."""
    call_id: str = request.path_params["call_id"]
    if not valid_call_id(call_id):
        raise HTTPException(422, detail=[{
            "type": "string_pattern_mismatch", "loc": ["path", "call_id"],
            "msg": f"String should match pattern '{CALL_ID_PATTERN}'",
        }])  # fmt: skip
    return call_id


def problem(status: int, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})
