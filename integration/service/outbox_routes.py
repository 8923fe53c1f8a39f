"""The write path's API: end a call durably, watch the outbox, replay dead letters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from integration.outbox.model import EffectRow
from integration.outbox.outcome import (
    CallOutcome,
    outcome_fingerprint,
    redacted_outcome,
    safe_errors,
)
from integration.outbox.plan import plan_effects
from integration.service.calls import CALL_ID_PATTERN

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["outbox_router"]

_STATUSES = "^(pending|in_flight|delivered|dead)$"


def outbox_router(integration: Integration) -> APIRouter:
    router = APIRouter()
    store = integration.outbox

    async def views(rows: list[EffectRow]) -> list[dict[str, Any]]:
        """Each effect as shown, with ``delivery_status``: for a text Twilio accepted, the
        latest status its callbacks reported (None before the first, and for other kinds)."""
        now = integration.wall_clock()
        shown = [row.view(now) for row in rows]
        sids = {row.id: _message_sid(row) for row in rows}
        statuses = await integration.receipts.statuses([s for s in sids.values() if s])
        for row, view in zip(rows, shown, strict=True):
            sid = sids[row.id]
            view["delivery_status"] = statuses.get(sid) if sid else None
        return shown

    @router.post(
        "/calls/{call_id}/end",
        status_code=201,
        summary="End a call: its effects are durable before this answers",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CallOutcome.model_json_schema()}},
            }
        },
        responses={200: {"description": "the same outcome again: the effects already queued"},
                   409: {"description": "the call already ended with another outcome"}},
    )  # fmt: skip
    async def end_call(
        request: Request, call_id: str = Path(..., pattern=CALL_ID_PATTERN)
    ) -> JSONResponse:
        # Validated here rather than by FastAPI: its 422 echoes the input, card number included.
        try:
            outcome = CallOutcome.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            return JSONResponse(status_code=422, content={"detail": safe_errors(exc)})
        fingerprint = outcome_fingerprint(outcome)
        record = integration.calls.get(call_id)
        if record is None:
            # Not in memory: unknown, or ended before a restart (a client retrying after a
            # crash must get the effects it may not have heard about).
            stored = await store.call(call_id)
            if stored is None:
                raise HTTPException(404, detail=f"no call {call_id!r}; start it with POST /calls")
            phone, customer_id, contact_id = stored["phone"], stored["customer_id"], None
        else:
            view = record.view
            contact = view.contact.value or {}
            phone, customer_id, contact_id = view.phone, view.customer_id, contact.get("contact_id")
        # A bad phone in a message raises InvalidInput: the app's handler makes it a 422.
        plan = plan_effects(
            call_id, outcome, phone=phone, customer_id=customer_id, contact_id=contact_id,
            vault=integration.vault,
        )  # fmt: skip
        result = await store.end_call(
            call_id, phone=phone, customer_id=customer_id, fingerprint=fingerprint,
            outcome_json=redacted_outcome(outcome), effects=plan.effects,
            manual_payment=plan.manual_payment,
        )  # fmt: skip
        if result.conflict:
            raise HTTPException(409, detail=f"call {call_id!r} already ended with another outcome")
        if result.created:
            integration.wake_dispatcher()
            if record is not None and record.status != "ended":
                record.status = "ended"
                integration.sink.metrics.call_ended()
            integration.sink.emit(
                "call", call_id=call_id, operation="end", outcome="ok",
                detail={"disposition": outcome.disposition, "effects": len(result.effects)},
            )  # fmt: skip
        body = {
            "call_id": call_id,
            "effects": await views(result.effects),
            "manual_payment": result.manual_payment,
        }
        return JSONResponse(status_code=201 if result.created else 200, content=body)

    @router.get("/outbox", summary="Outbox depth, oldest pending effect, deliveries, dead letters")
    async def outbox_summary() -> dict[str, Any]:
        stats = await store.stats()
        integration.outbox_metrics.set_counts(stats)
        for system, counts in stats.get("systems", {}).items():
            executor = integration.write_executors.get(system)
            counts["breaker"] = executor.breaker.state if executor is not None else None
        return {**stats, **integration.delivery_summary()}

    @router.get("/outbox/effects", summary="Effects, newest first")
    async def effects(
        status: str | None = Query(None, pattern=_STATUSES),
        system: str | None = None,
        call_id: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        rows = await store.effects(status=status, system=system, call_id=call_id, limit=limit)
        return {"effects": await views(rows)}

    @router.get("/outbox/dead", summary="Dead letters: effects that could not be delivered")
    async def dead_letters(
        system: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        rows = await store.effects(status="dead", system=system, limit=limit)
        return {"effects": await views(rows)}

    @router.post("/outbox/dead/replay", summary="Replay every dead letter of one system")
    async def replay_system(system: str = Query(..., min_length=1)) -> dict[str, Any]:
        if system not in integration.write_executors:
            known = ", ".join(sorted(integration.write_executors))
            raise HTTPException(422, detail=f"system: unknown system {system!r} (one of {known})")
        replayed = await store.replay_system(system)
        integration.wake_dispatcher()
        return {"replayed": replayed, "count": len(replayed)}

    @router.post("/outbox/dead/{effect_id}/replay", summary="Replay one dead letter")
    async def replay_one(effect_id: int) -> dict[str, Any]:
        try:
            replayed = await store.replay(effect_id)
        except KeyError:
            raise HTTPException(404, detail=f"no effect {effect_id}") from None
        except ValueError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        integration.wake_dispatcher()
        return {"replayed": replayed}

    @router.get(
        "/payments/manual", summary="Card payments taken for manual processing (last four only)"
    )
    async def manual_payments(limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        return {"payments": await store.manual_payments(limit)}

    return router


def _message_sid(row: EffectRow) -> str | None:
    sid = row.result.get("sid") if row.system == "messaging" and row.result else None
    return sid if isinstance(sid, str) else None
