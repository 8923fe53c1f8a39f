"""take_payment: a card charge through the outbox, or manual processing when the gateway is
not taking charges.

The choice is made before a charge is queued, never after: a charge that reached the
gateway and timed out may have gone through, and only its own retries (same idempotency
key) can settle it without charging twice. So:

- gateway healthy → the charge is an outbox effect; wait for it within the turn:
  delivered → ok; declined → failed, ask for another card; still going → degraded,
  honest words; dead for any other reason (it will not be retried) → manual processing.
- the payments breaker is not closed, or recent charges are failing (this process's
  breaker window, or charges in the outbox waiting for a retry) → manual processing at
  once: the card sealed in the vault as a manual payment, and a callback task for the
  team, committed together.

Card numbers never leave this module in clear: results, events and logs see last4 and
the brand only; the outbox holds the vault's ciphertext.
"""

from __future__ import annotations

from typing import Any

from integration.errors import InvalidInput
from integration.outbox.model import EffectSpec
from integration.outbox.vault import CardDetails, ManualPaymentIn
from integration.tools._say import money
from integration.tools._verdict import reason_of
from integration.tools.args import TakePaymentArgs
from integration.tools.context import ToolContext
from integration.tools.result import FieldSource, Outcome

__all__ = ["gateway_trouble", "take_payment"]

_SYSTEM = "payments"


async def take_payment(ctx: ToolContext, args: TakePaymentArgs) -> Outcome:
    card = args.card()
    trouble = await gateway_trouble(ctx)
    if trouble is not None:
        return await _manual(ctx, args, card, trouble)
    sealed = ctx.deps.vault.seal(card) if card is not None else None
    charge = EffectSpec(
        ctx.name("payment"),
        _SYSTEM,
        "payments.charge",
        {
            "amount": args.amount_cents,
            "currency": args.currency,
            "card_sealed": sealed.token if sealed else None,
            "payment_method": args.payment_method,
            "last4": sealed.last4 if sealed else None,
            "metadata": {"call_id": ctx.call_id},
        },
    )
    [row] = await ctx.write([charge])
    row = await ctx.settle(row)
    amount = money(args.amount_cents, args.currency)
    data = _paid(args, card)
    if row.status == "delivered":
        result = row.result or {}
        data.update(paid=True, payment_id=result.get("id"))
        source = FieldSource(status="live", system=_SYSTEM)
        return Outcome(
            "ok",
            f"Thank you, your payment of {amount} has gone through.",
            data,
            {"payment": source},
        )
    if row.status == "dead" and row.dead_reason == "rejected":
        source = FieldSource(status="missing", system=_SYSTEM, reason="declined")
        return Outcome(
            "failed",
            "I'm sorry, that payment was declined. Is there another card you'd like to use?",
            {**data, "paid": False, "declined": True},
            {"payment": source},
        )
    if row.status == "dead":  # not declined, and never retried again: a person takes it on
        # From now on the payments team owns this payment: the dead charge must never be
        # replayed as well.
        await ctx.deps.outbox.supersede(row.id)
        return await _manual(ctx, args, card, row.dead_reason or "dead")
    source = FieldSource(status="queued", system=_SYSTEM, reason=reason_of(row) or "pending")
    return Outcome(
        "degraded",
        f"I've taken the payment details and the payment of {amount} is being processed now. "
        "You'll get a confirmation as soon as it goes through.",
        {**data, "paid": False, "queued": True},
        {"payment": source},
    )


async def gateway_trouble(ctx: ToolContext) -> str | None:
    """Why charges should not be sent now (None: send them)."""
    breaker = ctx.deps.payments_breaker
    if breaker is not None:
        snapshot = breaker.snapshot()
        if snapshot["state"] == "open":
            return "breaker_open"
        # Half-open: the charge goes, as one of the probes that can close the breaker (were
        # every payment sent to manual processing, nothing would ever probe the gateway).
        if (
            snapshot["state"] == "closed"
            and snapshot["failures"]
            and snapshot["failure_rate"] >= 0.5
        ):
            return "gateway_failing"
    # Charges waiting for a retry are the gateway failing too, whichever process saw it.
    if await ctx.deps.outbox.retrying(_SYSTEM):
        return "gateway_failing"
    return None


async def _manual(
    ctx: ToolContext, args: TakePaymentArgs, card: CardDetails | None, why: str
) -> Outcome:
    amount = money(args.amount_cents, args.currency)
    phone = ctx.view.phone or "the number they called from"
    if card is None:  # a saved payment method: nothing to hold, a person calls back
        text = (
            f"Take a payment of {amount} (saved method {args.payment_method}) for call "
            f"{ctx.call_id}; the gateway was not taking charges. Call back on {phone}."
        )
        await ctx.write([_callback(ctx, "Callback: payment to take", text)])
        return Outcome(
            "degraded",
            f"I'm not able to take the payment of {amount} right now. I've asked our team to "
            "call you back to complete it.",
            {**_paid(args, None), "paid": False, "manual": False, "callback": True},
            {"payment": FieldSource(status="missing", system=_SYSTEM, reason=why)},
        )
    sealed = ctx.deps.vault.seal(card)
    manual = ManualPaymentIn(
        call_id=ctx.call_id,
        token=sealed.token,
        last4=sealed.last4,
        brand=sealed.brand,
        amount=args.amount_cents,
        currency=args.currency,
    )
    text = (
        f"Charge {amount} to the {sealed.brand} card ending {sealed.last4}, held sealed in the "
        f"payment vault for call {ctx.call_id} (manual payments), then call the customer "
        f"back on {phone} to confirm."
    )
    try:
        await ctx.write([_callback(ctx, "Callback: card payment to process", text)], manual)
    except InvalidInput:  # one card per call may wait for a person; a second needs one now
        return Outcome(
            "failed",
            "I'm not able to take another card payment on this call. Let me pass you to a "
            "colleague who can help.",
            {**_paid(args, card), "paid": False, "manual": False},
            {"payment": FieldSource(status="missing", system=_SYSTEM, reason=why)},
            escalate="second_manual_payment",
        )
    return Outcome(
        "degraded",
        f"I've taken the card details, and our team will process the payment of {amount} "
        "and call you back to confirm.",
        {**_paid(args, card), "paid": False, "manual": True},
        {"payment": FieldSource(status="queued", system=_SYSTEM, reason=why)},
    )


def _callback(ctx: ToolContext, subject: str, text: str) -> EffectSpec:
    fields: dict[str, Any] = {
        "Subject": subject,
        "Description": text,
        "ActivityDate": ctx.now().date().isoformat(),
        "Status": "Not Started",
        "Priority": "High",
    }
    contact_id = ctx.contact.get("contact_id")
    if contact_id:
        fields["WhoId"] = contact_id
    return EffectSpec(ctx.name("payment_callback"), "crm", "crm.create_task", {"fields": fields})


def _paid(args: TakePaymentArgs, card: CardDetails | None) -> dict[str, Any]:
    """What a result may say about the payment: the amount, and the card by last4 only."""
    return {
        "amount_cents": args.amount_cents,
        "currency": args.currency,
        "last4": card.last4 if card is not None else None,
        "brand": card.brand if card is not None else None,
    }
