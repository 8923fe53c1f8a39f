"""Scripted conversations: what a caller wants, and the tools the agent uses to get it done.

No language model: each journey is a short script with a few random choices (wording,
amounts, times), and its branches follow what the tools answered: a booking that could
not be made becomes a callback, a payment the gateway refused becomes a callback, an
eligible prospect is marked Qualified (which sets off the CRM's automations). A tool that
asks for a person ends the script through ``Conversation.escalate``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.simulator.conversation import Conversation

__all__ = ["DEFAULT_MIX", "JOURNEYS", "TEST_CARD", "Journey"]

# Stripe's public test card: accepted by the payments mock, never a real card.
TEST_CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2034}
_PRODUCT_NAMES = {
    "LOAN-PERSONAL": "personal loan",
    "LOAN-AUTO": "car loan",
    "CARD-CLASSIC": "credit card",
    "CARD-GOLD": "gold card",
    "HELOC": "home equity line",
    "MORTGAGE-30Y": "mortgage",
}
_STAGE_WORDS = {
    "submitted": "has been received and is waiting for review",
    "underwriting": "is with our underwriters now",
    "approved": "has been approved",
    "declined": "was not approved this time",
    "funded": "has been funded",
}


@dataclass(frozen=True)
class Journey:
    name: str
    description: str
    personas: tuple[str, ...]  # kinds to draw the caller from (repeat a kind to favour it)
    script: Callable[[Conversation], Awaitable[None]]


def _hello(call: Conversation) -> str:
    contact = (call.view.get("contact") or {}).get("value") or {}
    name = contact.get("first_name")
    return f"Hi {name}, thanks for calling." if name else "Hi, thanks for calling."


def _callback_at(call: Conversation) -> str:
    return (datetime.now(UTC) + timedelta(hours=call.rng.randint(2, 48))).isoformat()


def _channel(call: Conversation) -> str:
    """The caller's preferred channel (the tool sends to their own number or address)."""
    persona = call.persona
    if persona.preferred_channel == "email" and not persona.email:
        return "sms"
    return persona.preferred_channel


async def _confirm(call: Conversation, **extra: Any) -> None:
    """Send a confirmation; when the agent has no address on file, the caller gives one."""
    sent = await call.tool("send_confirmation", channel=_channel(call), **extra)
    if sent.data.get("needs") == "address":
        to = call.persona.email if sent.data.get("channel", _channel(call)) == "email" else None
        await call.caller(f"It's {to}." if to else "Just text it to this number, please.")
        retry = {"channel": "email", "to": to} if to else {"channel": "sms"}
        await call.tool("send_confirmation", **{**extra, **retry})


async def _callback(call: Conversation, reason: str) -> None:
    await call.tool("schedule_callback", at=_callback_at(call), reason=reason)


async def book_appointment(call: Conversation) -> None:
    product = _PRODUCT_NAMES.get(call.persona.product_code, "an account")
    await call.caller(f"Hi, I'd like to book an appointment to talk about a {product}.")
    await call.agent(f"{_hello(call)} Let me find you a time.")
    start: datetime = call.slot
    await call.caller(f"Could we do {start:%A} at {start:%-I %p}?")
    booked = await call.tool(
        "book_appointment",
        start=start.isoformat(),
        duration_minutes=30,
        topic=f"Branch appointment: {product}",
    )
    if booked.status == "failed":
        await call.caller("Can someone call me back to sort out a time, then?")
        await _callback(call, f"could not book an appointment about a {product}")
        await call.end("callback", f"Wanted an appointment about a {product}; callback booked.")
        return
    if call.persona.lead_id:
        await call.tool("update_lead", lead_id=call.persona.lead_id, status="Working - Contacted")
    await call.caller("Great, can you send me the details?")
    await _confirm(call)
    await call.caller("Thanks, bye.")
    await call.end("booked", f"Booked a branch appointment about a {product}.")


async def loan_status(call: Conversation) -> None:
    await call.caller("I'm calling to check on my loan application.")
    loans = call.view.get("loans") or {}
    found = loans.get("value") or []
    if not found:
        await call.agent(
            "I can't see your application right now. Let me have a specialist "
            "call you back with an update."
        )
        await _callback(call, "loan status: the application could not be read during the call")
        await call.end("callback", "Asked about a loan application; callback booked.")
        return
    stage = str(found[0].get("stage", "submitted"))
    missing = [
        d["name"].replace("_", " ")
        for d in found[0].get("documents", [])
        if d.get("status") == "missing"
    ]
    words = _STAGE_WORDS.get(stage, "is in progress")
    await call.agent(f"{_hello(call)} Your application {words}.")
    if missing:
        await call.agent(f"We still need your {' and '.join(missing[:2])}.")
        await call.caller("Can you send me the list?")
        text = f"Documents still needed for your application: {', '.join(missing)}."
    else:
        await call.caller("Can you send me that in writing?")
        text = f"Your loan application {words}."
    await _confirm(call, text=text)
    await call.caller("Okay, thank you.")
    await call.end("resolved", f"Loan status given ({stage}); {len(missing)} documents missing.")


async def make_payment(call: Conversation) -> None:
    await call.caller("I'd like to make a payment, please.")
    await call.agent(f"{_hello(call)} How much would you like to pay today?")
    amount = call.rng.randrange(20, 500) * 100
    await call.caller(f"{amount // 100} dollars.")
    await call.caller("I'll read you my card details.")  # the digits never enter a transcript
    paid = await call.tool("take_payment", amount_cents=amount, **TEST_CARD)
    if paid.status == "failed":
        await call.caller("Can you call me back when it's working?")
        await _callback(call, "card payment could not be taken during the call")
        await call.end("callback", f"Payment of ${amount // 100} not taken; callback booked.")
        return
    await call.caller("Can I get a receipt?")
    await _confirm(call)
    await call.end("payment", f"Payment of ${amount // 100} taken ({paid.status}).")


async def eligibility(call: Conversation) -> None:
    code = call.persona.product_code
    product = _PRODUCT_NAMES.get(code, "loan")
    await call.caller(f"Hi, would I qualify for a {product}?")
    await call.agent(f"{_hello(call)} Let me check that for you.")
    checked = await call.tool("check_eligibility", product=code)
    decision = str((checked.data or {}).get("decision", ""))
    if call.persona.lead_id and checked.status == "ok" and decision == "eligible":
        await call.caller("That's great, I'd like to go ahead.")
        await call.tool("update_lead", lead_id=call.persona.lead_id, status="Qualified")
        await call.end("resolved", f"Eligible for a {product}; lead qualified.")
        return
    if call.persona.customer_id is None or checked.status == "failed":
        await call.caller("Could someone call me to talk it through?")
        await _callback(call, f"wants to talk about a {product}")
        await call.end("callback", f"Asked about a {product}; callback booked.")
        return
    await call.caller("Okay, thanks for checking.")
    await call.end("resolved", f"Eligibility for a {product}: {decision or 'unknown'}.")


async def complaint_escalation(call: Conversation) -> None:
    await call.caller("I was charged twice last month and nobody has fixed it.")
    await call.agent(f"{_hello(call)} I'm sorry about that. Let me look into it.")
    await call.caller("No, I've been through this already. I want to talk to a person.")
    await call.escalate(
        "the caller has a billing complaint and asked for a person",
        planned=True,
        summary="Charged twice last month; says it was reported before and not fixed.",
    )


JOURNEYS: dict[str, Journey] = {
    j.name: j
    for j in (
        Journey(
            "book_appointment",
            "books a branch appointment, confirms it by text or email",
            ("prospect", "customer"),
            book_appointment,
        ),
        Journey(
            "loan_status",
            "asks where a loan application stands, gets the missing list",
            ("borrower",),
            loan_status,
        ),
        Journey(
            "make_payment",
            "pays by card (Stripe's test card), gets a receipt",
            ("customer",),
            make_payment,
        ),
        Journey(
            "eligibility",
            "asks whether they qualify; an eligible lead becomes Qualified",
            ("prospect", "prospect", "customer", "newcomer"),
            eligibility,
        ),
        Journey(
            "complaint_escalation",
            "complains and insists on a person",
            ("customer",),
            complaint_escalation,
        ),
    )
}
DEFAULT_MIX: dict[str, float] = {
    "book_appointment": 0.25,
    "loan_status": 0.2,
    "make_payment": 0.2,
    "eligibility": 0.25,
    "complaint_escalation": 0.1,
}
