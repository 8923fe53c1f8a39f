"""Request bodies, and reading them without echoing anything back.

Bodies are validated here rather than by FastAPI: its 422 echoes the input, and a tool's
arguments, a transcript turn or an outcome may hold a card number. Our 422s name the
field only.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

import orjson
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
)
from starlette.requests import Request

from integration.calls.ids import CALL_ID_PATTERN, valid_call_id
from integration.keepable import unkeepable
from integration.outbox.outcome import safe_errors
from integration.redaction import FreeText
from integration.tools import DEFAULT_FILLER_THRESHOLD_MS, DEFAULT_TURN_BUDGET_MS

__all__ = [
    "CALL_ID",
    "NO_CALL",
    "ScenarioResultIn",
    "StartCall",
    "ToolCallBody",
    "TurnIn",
    "call_id_of",
    "field_error",
    "problem",
    "read_json",
    "validated",
]

M = TypeVar("M", bound=BaseModel)
NO_CALL = "no such call; start it with POST /calls"
# The call id in a path: what the hot routes (``front.hot``) match it with.
CALL_ID = {"call_id": CALL_ID_PATTERN.strip("^$")}


# Every body: unknown fields refused, numbers finite, inputs never echoed in an error.
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, hide_input_in_errors=True)


class StartCall(BaseModel):
    model_config = _STRICT

    phone: str = Field(..., description="the caller's number in any common format", max_length=40)
    deadline_ms: float | None = Field(
        None, gt=0, le=60_000, description="the lookup's budget (default from settings)"
    )
    product: str | None = Field(
        None, pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$", description="product code for eligibility"
    )
    call_id: str | None = Field(None, pattern=CALL_ID_PATTERN)


class ToolCallBody(BaseModel):
    model_config = _STRICT

    arguments: dict[str, Any] = Field(default_factory=dict)
    turn_budget_ms: float = Field(DEFAULT_TURN_BUDGET_MS, gt=0, le=60_000)
    filler_threshold_ms: float = Field(DEFAULT_FILLER_THRESHOLD_MS, ge=0, le=60_000)


class TurnIn(BaseModel):
    model_config = _STRICT

    speaker: Literal["caller", "agent"]
    text: FreeText = Field(..., max_length=4000)
    at_ms: float | None = Field(None, ge=0, description="since the call started (default: now)")


class ScenarioResultIn(BaseModel):
    model_config = _STRICT

    name: StrictStr = Field(..., min_length=1, max_length=200)
    started_at: StrictStr = Field(..., min_length=1, max_length=64)
    scorecard: dict[str, Any]
    passed: StrictBool

    @field_validator("scorecard")
    @classmethod
    def _keepable(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = unkeepable(value)
        if found is not None:
            raise ValueError(f"a value in it {found[1]}")
        return value


async def validated(model: type[M], request: Request) -> M | JSONResponse:
    """The body as ``model``; or a 422 naming each bad field without echoing any input, or
    a 400 when the body is not JSON at all."""
    raw = await request.body() or b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors()):
            return JSONResponse(status_code=422, content={"detail": safe_errors(exc, "body")})
    # The fast parser stops at the first thing it cannot read (NaN, a lone surrogate):
    # read it again leniently, to say which field holds it.
    parsed = read_json(raw)
    if isinstance(parsed, JSONResponse):
        return parsed
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        return JSONResponse(status_code=422, content={"detail": safe_errors(exc, "body")})


def read_json(raw: bytes) -> Any | JSONResponse:
    """``raw`` as JSON; a 422 naming the field that holds what no store can keep (a lone
    surrogate, NaN, an integer beyond 64 bits: ``keepable``); a 400 when it is not JSON.
    Depth is bounded before this (``gate``), so no parser recurses far."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return _problem(400, "json_invalid", ["body"], "the body is not JSON")
    found = unkeepable(value)
    if found is not None:
        where, why = found
        return _problem(422, "value_error", ["body", *where], why)
    return value


def _problem(status: int, kind: str, loc: list[Any], msg: str) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"detail": [{"type": kind, "loc": loc, "msg": msg}]}
    )


def call_id_of(request: Request) -> str:
    """The path's call id, or a 422 naming it (ids become idempotency keys: plain ones)."""
    call_id: str = request.path_params["call_id"]
    if not valid_call_id(call_id):
        raise HTTPException(
            422,
            detail=[
                {
                    "type": "string_pattern_mismatch",
                    "loc": ["path", "call_id"],
                    "msg": f"String should match pattern '{CALL_ID_PATTERN}'",
                }
            ],
        )
    return call_id


def field_error(where: str, field: str, kind: str, message: str) -> HTTPException:
    """A 422 naming ``where`` (body, query, path) and ``field``; ``message`` must not hold
    the input."""
    return HTTPException(422, detail=[{"type": kind, "loc": [where, field], "msg": message}])


def problem(status: int, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})
