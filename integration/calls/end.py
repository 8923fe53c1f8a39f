"""Ending a call: its outcome becomes effects, committed in one transaction before this
answers, then delivered by the outbox.

    end_call(deps, call_id, outcome) -> EndedCall

The same outcome again answers with the effects already queued (``created`` False); a
different one is ``CallEndConflict``. A call this store does not know, but whose end the
outbox holds (it ended before its record was pruned), still answers: a client retrying
after a crash must get the effects it may not have heard about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integration.calls.ids import Origin
from integration.calls.store import CallStore
from integration.events.sink import EventSink
from integration.outbox.live import LiveDelivery
from integration.outbox.model import EffectRow
from integration.outbox.outcome import CallOutcome, outcome_fingerprint, redacted_outcome
from integration.outbox.plan import plan_effects
from integration.outbox.store import OutboxStore
from integration.outbox.vault import CardVault

__all__ = ["CallEndConflict", "EndCallDeps", "EndedCall", "UnknownCallToEnd", "end_call"]


class CallEndConflict(Exception):
    """The call already ended with another outcome."""


class UnknownCallToEnd(LookupError):
    pass


@dataclass(frozen=True)
class EndCallDeps:
    calls: CallStore
    outbox: OutboxStore
    vault: CardVault
    delivery: LiveDelivery | None
    sink: EventSink


@dataclass(frozen=True)
class EndedCall:
    call_id: str
    created: bool  # False: the same outcome again
    effects: list[EffectRow]
    manual_payment: dict[str, Any] | None


async def end_call(
    deps: EndCallDeps, call_id: str, outcome: CallOutcome, origin: Origin | None = None
) -> EndedCall:
    """Raises InvalidInput for a value only planning can judge (a text's bad number)."""
    fingerprint = outcome_fingerprint(outcome)
    view = await deps.calls.caller(call_id, origin)
    if view is None:
        stored = await deps.outbox.call(call_id)
        if stored is None:
            raise UnknownCallToEnd(call_id)
        phone, customer_id, contact_id = stored["phone"], stored["customer_id"], None
    else:
        contact = view.contact.value or {}
        phone, customer_id, contact_id = view.phone, view.customer_id, contact.get("contact_id")
    plan = plan_effects(
        call_id,
        outcome,
        phone=phone,
        customer_id=customer_id,
        contact_id=contact_id,
        vault=deps.vault,
    )
    delivery = deps.delivery
    result = await deps.outbox.end_call(
        call_id,
        phone=phone,
        customer_id=customer_id,
        fingerprint=fingerprint,
        outcome_json=redacted_outcome(outcome),
        effects=plan.effects,
        manual_payment=plan.manual_payment,
        lease=(delivery.owner, delivery.lease_s) if delivery is not None else None,
        with_it=deps.calls.ended_with(call_id) if view is not None else None,
    )
    if result.conflict:
        raise CallEndConflict(call_id)
    if result.created:
        if delivery is not None:
            delivery.adopt(result.effects)
            delivery.wake()
        deps.sink.emit(
            "call",
            call_id=call_id,
            operation="end",
            outcome="ok",
            detail={"disposition": outcome.disposition, "effects": len(result.effects)},
        )
    return EndedCall(call_id, result.created, result.effects, result.manual_payment)
