"""The tools that only write: update_lead, send_confirmation, schedule_callback.

Each write is an outbox effect of the live call, committed before anything is said, and
waited for within the turn: delivered → ok; still on its way → degraded with words that
do not promise more than is true; refused → failed, asking for what would fix it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integration.errors import SourceError
from integration.outbox.model import EffectRow, EffectSpec
from integration.outbox.outcome import is_email
from integration.phones import normalize_phone
from integration.policies.executor import Attempt
from integration.tools._say import spoken_time
from integration.tools._verdict import source_of
from integration.tools.args import ScheduleCallbackArgs, SendConfirmationArgs, UpdateLeadArgs
from integration.tools.context import ToolContext
from integration.tools.result import FieldSource, Outcome

__all__ = ["schedule_callback", "send_confirmation", "update_lead"]

_BY = {"sms": "a text", "whatsapp": "a WhatsApp message", "email": "an email"}


async def update_lead(ctx: ToolContext, args: UpdateLeadArgs) -> Outcome:
    provenance: dict[str, FieldSource] = {}
    lead_id = args.lead_id
    if lead_id is None:
        crm, phone = ctx.deps.crm, ctx.view.phone
        if not phone:
            return Outcome(
                "failed",
                "Which enquiry should I update? I don't have a number to find it by.",
                {"status": args.status},
                {"lead": FieldSource(status="missing", system="crm", reason="no_caller_number")},
            )

        async def leads_by_phone(attempt: Attempt) -> list[dict[str, Any]]:
            return await crm.find_leads_by_phone(attempt, phone)

        try:
            leads = await ctx.read("crm", "find_leads_by_phone", leads_by_phone)
        except SourceError as exc:
            missing = FieldSource(status="missing", system="crm", reason=exc.reason)
            return Outcome(
                "failed",
                "I wasn't able to update that just now. Would you like someone to call you "
                "back about it?",
                {"status": args.status},
                {"lead": missing},
            )
        open_leads = [lead for lead in leads if not lead.get("IsConverted")]
        if not open_leads:
            missing = FieldSource(status="missing", system="crm", reason="not_found")
            return Outcome(
                "failed",
                "I couldn't find an enquiry under this number to update.",
                {"status": args.status},
                {"lead": missing},
            )
        lead_id = str(max(open_leads, key=lambda lead: lead.get("LastModifiedDate") or "")["Id"])
        provenance["lead"] = FieldSource(status="live", system="crm")
    effect = EffectSpec(
        ctx.name("lead"),
        "crm",
        "crm.update_lead",
        {"lead_id": lead_id, "fields": {"Status": args.status}},
    )
    row = await _write_one(ctx, effect)
    provenance["update"] = source_of(row)
    data: dict[str, Any] = {"lead_id": lead_id, "status": args.status}
    if row.status == "delivered":
        data["automations"] = (row.result or {}).get("automations")
        return Outcome("ok", "Thanks, I've updated that for you.", data, provenance)
    if row.status == "dead":
        return Outcome("failed", "I couldn't update that record just now.", data, provenance)
    return Outcome(
        "degraded",
        "I've noted that, and it will be updated on our side shortly.",
        {**data, "queued": True},
        provenance,
    )


async def send_confirmation(ctx: ToolContext, args: SendConfirmationArgs) -> Outcome:
    booking = ctx.booking if args.text is None else None
    outbox = ctx.deps.outbox
    waiting_on = await outbox.named(ctx.call_id, booking.effect) if booking else None
    if waiting_on is not None and waiting_on.status == "dead":
        booking = None  # the booking fell through since: nothing to confirm
    after = (booking.effect,) if booking else ()
    when = spoken_time(datetime.fromisoformat(booking.start)) if booking else None
    text = args.text or (
        f"Your appointment is confirmed for {when}." if when else "Thank you for calling us today."
    )
    if args.channel == "email":
        email = ctx.contact.get("email")
        to = args.to or (email if isinstance(email, str) and is_email(email) else None)
        if to is None:
            return _no_address(
                "I don't have an email address for you. Which address should I send it to?"
            )
        subject = args.subject or (
            "Your appointment is confirmed" if booking else "Thank you for your call"
        )
        payload = {"to": to, "subject": subject, "text": text}
        effect = EffectSpec(ctx.name("message"), "email", "email.send", payload, after)
    else:
        raw = args.to or ctx.view.phone
        if not raw:
            return _no_address("What number should I send it to?")
        # A bad number is the caller's to correct: InvalidInput naming ``to`` becomes a 422.
        to = normalize_phone(raw.removeprefix("whatsapp:"), field="to")
        payload = {"channel": args.channel, "to": to, "body": text}
        effect = EffectSpec(ctx.name("message"), "messaging", "messaging.send", payload, after)
    # Behind a booking that is failing to go through, the message cannot go before it
    # does: no use waiting out the turn for it.
    stuck = bool(booking) and waiting_on is not None and waiting_on.last_error is not None
    row = await _write_one(ctx, effect, wait=not stuck)
    by = _BY[args.channel]
    data = {"channel": args.channel, "to": to, "after_booking": bool(booking)}
    provenance = {"message": source_of(row)}
    if row.status == "delivered":
        return Outcome("ok", f"I've sent you {by}.", data, provenance)
    if row.status == "dead" and row.dead_reason == "rejected":
        where = "address" if args.channel == "email" else "number"
        return Outcome(
            "failed",
            f"I couldn't send {by} to that {where}. Is there another {where} I can use?",
            data,
            provenance,
        )
    if row.status == "dead":
        return Outcome("failed", f"I wasn't able to send {by} just now.", data, provenance)
    if booking and row.last_error is None:
        say = f"I'll send you {by} as soon as your booking is confirmed."
    else:
        say = f"{by[0].upper()}{by[1:]} is on its way to you; it may take a few minutes to arrive."
    return Outcome("degraded", say, {**data, "queued": True}, provenance)


async def schedule_callback(ctx: ToolContext, args: ScheduleCallbackArgs) -> Outcome:
    raw = args.phone or ctx.view.phone
    if not raw:
        return _no_address("What's the best number to call you back on?")
    phone = normalize_phone(raw, field="phone")
    now = ctx.now()
    when = spoken_time(args.at, now) if args.at else "shortly"
    due = (args.at or now).date().isoformat()
    moment = args.at.isoformat() if args.at else "as soon as possible"
    fields: dict[str, Any] = {
        "Subject": "Callback requested",  # the CRM's callback automation keys on "Callback"
        "Description": f"Call back {phone} at {moment}: {args.reason}",
        "ActivityDate": due,
        "Status": "Not Started",
        "Priority": "High",
    }
    contact_id = ctx.contact.get("contact_id")
    if contact_id:
        fields["WhoId"] = contact_id
    row = await _write_one(
        ctx, EffectSpec(ctx.name("callback"), "crm", "crm.create_task", {"fields": fields})
    )
    data = {"phone": phone, "at": args.at.isoformat() if args.at else None, "reason": args.reason}
    provenance = {"callback": source_of(row)}
    if row.status == "delivered":
        return Outcome(
            "ok", f"I've arranged for someone to call you back {when}.", data, provenance
        )
    if row.status == "dead":
        return Outcome(
            "failed",
            "I wasn't able to arrange the callback just now. Let me see if a colleague can help.",
            data,
            provenance,
            escalate="callback_failed",
        )
    return Outcome(
        "degraded",
        f"I've put in a request for someone to call you back {when}; it's on its way to "
        "the team now.",
        {**data, "queued": True},
        provenance,
    )


async def _write_one(ctx: ToolContext, effect: EffectSpec, *, wait: bool = True) -> EffectRow:
    [row] = await ctx.write([effect])
    return await ctx.settle(row) if wait else row


def _no_address(say: str) -> Outcome:
    return Outcome("failed", say, {"needs": "address"})
