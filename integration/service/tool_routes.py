"""The voice agent's side of the API: tools, barge-in, transcript turns, Vapi's tool webhook,
and the scenario runner's scorecards (kept for the dashboard).

Bodies are validated here rather than by FastAPI: its 422 echoes the input, and a tool's
arguments or a caller's words may hold a card number. Our 422s name the field only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from integration.errors import InvalidInput
from integration.lookup.recommend import recommend
from integration.lookup.view import CallerView, Provenance, Sourced
from integration.outbox.vault import luhn_ok
from integration.service.calls import CALL_ID_PATTERN, new_call_id
from integration.tools import (
    DEFAULT_FILLER_THRESHOLD_MS,
    DEFAULT_TURN_BUDGET_MS,
    CallHasEnded,
    ToolArgumentsError,
    ToolRuntime,
    UnknownCall,
    UnknownTool,
    openai_tools,
)
from integration.tools.vapi import VapiToolCall, answer, parse_tool_calls

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["tool_router"]

M = TypeVar("M", bound=BaseModel)
_KEPT_SCENARIO_RESULTS = 50
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
_VIEW_STEPS = {"contact": "crm", "accounts": "database", "eligibility": "eligibility",
               "call_history": "telephony", "loans": "loans", "orders": "erp"}  # fmt: skip


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


def tool_router(integration: Integration) -> APIRouter:
    router = APIRouter(tags=["tools"])
    runtime = ToolRuntime(integration)
    scenario_results: deque[dict[str, Any]] = deque(maxlen=_KEPT_SCENARIO_RESULTS)

    def known_call(call_id: str) -> None:
        if integration.calls.get(call_id) is None:
            raise HTTPException(404, detail=f"no call {call_id!r}; start it with POST /calls")

    @router.get("/tools", summary="The tools, as OpenAI function-calling definitions")
    async def list_tools() -> dict[str, Any]:
        return {"tools": openai_tools()}

    @router.post("/calls/{call_id}/tools/{name}", summary="Run one tool for a live call")
    async def run_tool(
        request: Request, name: str, call_id: str = Path(..., pattern=CALL_ID_PATTERN)
    ) -> JSONResponse:
        if name not in runtime.tools:
            raise HTTPException(404, detail=f"no tool {name!r}; GET /tools lists them")
        known_call(call_id)
        body = await _validated(ToolCallBody, request)
        if isinstance(body, JSONResponse):
            return body
        try:
            result = await runtime.run(
                call_id, name, body.arguments, turn_budget_ms=body.turn_budget_ms,
                filler_threshold_ms=body.filler_threshold_ms,
            )  # fmt: skip
        except ToolArgumentsError as exc:
            return JSONResponse(status_code=422, content={"detail": exc.errors})
        except (UnknownCall, UnknownTool) as exc:
            raise HTTPException(404, detail=f"no such call or tool: {exc}") from None
        except CallHasEnded:
            raise HTTPException(409, detail=f"call {call_id!r} has ended") from None
        return JSONResponse(result.model_dump(mode="json"))

    @router.post("/calls/{call_id}/barge-in", summary="The caller spoke: cancel tool reads")
    async def barge_in(call_id: str) -> dict[str, Any]:
        known_call(call_id)
        return {"call_id": call_id, "cancelled": runtime.barge_in(call_id)}

    @router.post("/calls/{call_id}/turns", status_code=201, summary="Add a transcript turn")
    async def add_turn(request: Request, call_id: str) -> Any:
        record = integration.calls.get(call_id)
        if record is None:
            raise HTTPException(404, detail=f"no call {call_id!r}")
        turn = await _validated(TurnIn, request)
        if isinstance(turn, JSONResponse):
            return turn
        at_ms = turn.at_ms
        if at_ms is None:
            began = datetime.fromisoformat(record.started_at).timestamp()
            at_ms = round(max(0.0, integration.wall_clock() - began) * 1000, 1)
        count = record.add_turn(
            {"speaker": turn.speaker, "text": redact_cards(turn.text), "at_ms": at_ms}
        )
        return {"call_id": call_id, "turns": count}

    @router.post("/vapi/webhook", summary="Vapi server messages: answers tool-calls")
    async def vapi_webhook(
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
        call_id = _call_id_for(message.call_id)
        await _ensure_call(integration, call_id, message.phone)

        async def one(tool_call: VapiToolCall) -> tuple[str, str]:
            if tool_call.problem is not None:
                return tool_call.id, f"I couldn't use those details: {tool_call.problem}."
            try:
                result = await runtime.run(
                    call_id, tool_call.name, tool_call.arguments, turn_budget_ms=turn_budget_ms,
                    filler_threshold_ms=filler_threshold_ms,
                )  # fmt: skip
            except UnknownTool:
                return tool_call.id, "That isn't something I can do on this line."
            except ToolArgumentsError as exc:
                fields = "; ".join(f"{'.'.join(map(str, e['loc'][2:]))} {e['msg']}"
                                   for e in exc.errors)  # fmt: skip
                return tool_call.id, f"I need different details to do that ({fields})."
            except CallHasEnded:
                return tool_call.id, "This call has already ended."
            except UnknownCall:
                return tool_call.id, "I'm sorry, I couldn't do that just now."
            return tool_call.id, result.say

        return answer(list(await asyncio.gather(*(one(c) for c in message.calls))))

    @router.post("/scenarios/results", status_code=201, summary="Keep a scenario's scorecard")
    async def add_scenario_result(request: Request) -> Any:
        result = await _validated(ScenarioResultIn, request)
        if isinstance(result, JSONResponse):
            return result
        scenario_results.appendleft(result.model_dump())
        return {"stored": True, "count": len(scenario_results)}

    @router.get("/scenarios/results", summary="Recent scenario scorecards, newest first")
    async def list_scenario_results() -> dict[str, Any]:
        return {"results": list(scenario_results)}

    return router


async def _validated(model: type[M], request: Request) -> M | JSONResponse:
    """The body as ``model``, or a 422 naming each bad field without echoing any input."""
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        errors = [
            {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        return JSONResponse(status_code=422, content={"detail": errors})


def redact_cards(text: str) -> str:
    """A card number spoken into the transcript is kept as its last four digits only."""

    def masked(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 12 <= len(digits) <= 19 and luhn_ok(digits):
            return f"[card ending {digits[-4:]}]"
        return match.group(0)

    return _CARD_LIKE.sub(masked, text)


def _call_id_for(vapi_id: str | None) -> str:
    """Vapi's call id when it is one of ours in shape (a UUID is), else one derived from it,
    so every message of one Vapi call lands on the same call here."""
    if vapi_id is None:
        return new_call_id()
    if re.fullmatch(CALL_ID_PATTERN, vapi_id):
        return vapi_id
    return "vapi_" + hashlib.sha256(vapi_id.encode()).hexdigest()[:24]


async def _ensure_call(integration: Integration, call_id: str, phone: str | None) -> None:
    """A Vapi call we have not seen starts here: the caller lookup when Vapi sent the
    number, else a view that knows nothing (the tools then ask for what they need)."""
    calls = integration.calls
    if calls.get(call_id) is not None:
        return
    if not calls.reserve(call_id):  # another message of this call is looking the caller up
        for _ in range(int(integration.settings.lookup_deadline_ms / 10) + 100):
            await asyncio.sleep(0.01)
            if calls.get(call_id) is not None:
                return
        return
    try:
        view = None
        if phone:
            try:
                view = await integration.lookup.lookup(phone, call_id=call_id)
            except InvalidInput:
                view = None
        view = view or unknown_caller_view()
    finally:
        calls.release(call_id)
    calls.add(call_id, view.phone, view)
    action = view.recommendation.action
    integration.sink.metrics.observe_lookup(
        action, view.elapsed_ms / 1000, view.elapsed_ms > view.deadline_ms > 0
    )
    detail = {"source": "vapi", "missing": view.recommendation.missing}
    integration.sink.emit(
        "lookup", call_id=call_id, outcome=action,
        latency_ms=view.elapsed_ms, detail=detail,
    )  # fmt: skip


def unknown_caller_view() -> CallerView:
    """The view of a caller whose number we were not given: every field missing, said why."""
    missing = {
        name: Sourced[Any](
            provenance=Provenance(status="missing", system=system, reason="no_caller_number")
        )
        for name, system in _VIEW_STEPS.items()
    }
    provenance = {name: sourced.provenance for name, sourced in missing.items()}
    return CallerView(
        phone="", customer_id=None, recommendation=recommend(provenance, None),
        deadline_ms=0, elapsed_ms=0, steps=[], **missing,
    )  # fmt: skip
