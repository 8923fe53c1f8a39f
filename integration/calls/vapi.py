"""Answering Vapi's ``tool-calls`` server message: the call it belongs to (started here
the first time, with the caller lookup on Vapi's customer number), each tool call run at
once within the turn's budget, and one line for the model per tool call.

Vapi's calls live in a namespace of their own (``vapi_call_id``): a Vapi message can never
name, read or end a call started with ``POST /calls``. A message may carry at most
``MAX_TOOL_CALLS`` tool calls; one with more is refused whole, with a line for each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integration.calls.ids import vapi_call_id
from integration.calls.start import CallerLookup, record_lookup
from integration.calls.store import CallExists, CallStore
from integration.errors import InvalidInput
from integration.events.sink import EventSink
from integration.lookup.recommend import recommend
from integration.lookup.view import CallerView, Provenance, Sourced
from integration.policies.admission import Admission
from integration.tools import (
    CallHasEnded,
    ToolArgumentsError,
    ToolRuntime,
    UnknownCall,
    UnknownTool,
)
from integration.tools.vapi import VapiToolCall, VapiToolCalls

__all__ = ["MAX_TOOL_CALLS", "VapiDeps", "answer_tool_calls", "unknown_caller_view"]

MAX_TOOL_CALLS = 16
# The caller hears this when the service is too busy to start their call in time; the model
# reads it as a cue to hand the call to a person.
BUSY = (
    "I'm sorry, our systems are very busy right now, so I can't look that up. Let me pass "
    "you to a colleague who can help."
)
_VIEW_STEPS = {
    "contact": "crm",
    "accounts": "database",
    "eligibility": "eligibility",
    "call_history": "telephony",
    "loans": "loans",
    "orders": "erp",
    "holdings": "core",
    "caller_flags": "sheets",
}
_TOO_MANY = "I can only do a few things at once. Could we take them one at a time?"


@dataclass(frozen=True)
class VapiDeps:
    lookup: CallerLookup
    calls: CallStore
    tools: ToolRuntime
    sink: EventSink
    admission: Admission


async def answer_tool_calls(
    deps: VapiDeps,
    message: VapiToolCalls,
    *,
    turn_budget_ms: float,
    filler_threshold_ms: float,
) -> list[tuple[str, str]]:
    """(tool call id, what the model reads) for each tool call of ``message``."""
    if len(message.calls) > MAX_TOOL_CALLS:
        return [(c.id, _TOO_MANY) for c in message.calls]
    call_id = vapi_call_id(message.call_id)
    if not await deps.calls.exists(call_id, "vapi"):
        refused, waited_ms = await deps.admission.admit()
        if refused is not None:
            _turned_away(deps.sink, call_id, refused)
            return [(c.id, BUSY) for c in message.calls]
        began = time.perf_counter()
        try:
            await _start(deps, call_id, message.phone, waited_ms)
        finally:
            deps.admission.done(waited_ms + (time.perf_counter() - began) * 1000)

    async def one(tool_call: VapiToolCall) -> tuple[str, str]:
        if tool_call.problem is not None:
            return tool_call.id, f"I couldn't use those details: {tool_call.problem}."
        try:
            result = await deps.tools.run(
                call_id,
                tool_call.name,
                tool_call.arguments,
                turn_budget_ms=turn_budget_ms,
                filler_threshold_ms=filler_threshold_ms,
                origin="vapi",
            )
        except UnknownTool:
            return tool_call.id, "That isn't something I can do on this line."
        except ToolArgumentsError as exc:
            fields = "; ".join(_field(e) for e in exc.errors)
            return tool_call.id, f"I need different details to do that ({fields})."
        except CallHasEnded:
            return tool_call.id, "This call has already ended."
        except UnknownCall:
            return tool_call.id, "I'm sorry, I couldn't do that just now."
        return tool_call.id, result.say

    return list(await asyncio.gather(*(one(c) for c in message.calls)))


async def _start(deps: VapiDeps, call_id: str, phone: str | None, waited_ms: float) -> None:
    """A Vapi call we have not seen starts here: the caller lookup when Vapi sent the
    number, else a view that knows nothing (the tools then ask for what they need). Two
    messages of a new call at once both look up; the first stored wins."""
    view = None
    if phone:
        try:
            queued_ms = deps.admission.queue_ms + waited_ms
            view = await deps.lookup.lookup(phone, call_id=call_id, queued_ms=queued_ms)
        except InvalidInput:
            view = None
    view = view or unknown_caller_view()
    try:
        await deps.calls.create(call_id, "vapi", view)
    except CallExists:
        return
    record_lookup(deps.sink, call_id, view, "vapi")


def _turned_away(sink: EventSink, call_id: str, why: str) -> None:
    sink.metrics.observe_refusal("POST /vapi/webhook", why)
    sink.emit(
        "call",
        call_id=call_id,
        operation="start",
        outcome="refused",
        detail={"reason": why, "escalate": "service_busy", "source": "vapi"},
    )


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
        phone="",
        customer_id=None,
        recommendation=recommend(provenance, None),
        deadline_ms=0,
        elapsed_ms=0,
        steps=[],
        **missing,
    )


def _field(error: Mapping[str, Any]) -> str:
    return f"{'.'.join(map(str, error['loc'][2:]))} {error['msg']}"
