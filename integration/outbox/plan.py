"""From a call's outcome to the effects it owes: one ``EffectSpec`` per part, nothing sent.

Planning is pure apart from sealing a card (encryption, no I/O), so the service can plan,
then commit call and effects in one transaction, and only then let the dispatcher act.
Payload keys are the delivery handlers' inputs (``deliveries.DELIVERIES``); a message
sent after a booking quotes the booking's result through ``${booking.field}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from integration.errors import InvalidInput
from integration.outbox.model import EffectSpec
from integration.outbox.outcome import CallOutcome, Message, Payment
from integration.outbox.vault import CardVault, ManualPaymentIn
from integration.phones import normalize_phone

__all__ = ["ManualPaymentIn", "Plan", "plan_effects"]

_TEXT_AFTER_BOOKING = (
    "Your appointment is confirmed for ${booking.start}. Reference: ${booking.id}."
)
_SUBJECT_AFTER_BOOKING = "Your appointment is confirmed"
_TEXT_PLAIN = "Thank you for calling us today."
_SUBJECT_PLAIN = "Thank you for your call"


@dataclass(frozen=True)
class Plan:
    effects: tuple[EffectSpec, ...]
    manual_payment: ManualPaymentIn | None  # a sealed card for a person to charge


def plan_effects(
    call_id: str,
    outcome: CallOutcome,
    *,
    phone: str,
    customer_id: str | None,
    contact_id: str | None,
    vault: CardVault,
    now: datetime | None = None,
) -> Plan:
    """The effects ``outcome`` asks for. ``now`` dates the CRM tasks (default: the wall clock).

    Raises InvalidPhoneNumber (an InvalidInput naming ``messages[i].to``) for a text or
    WhatsApp message to something that is not a phone number.
    """
    today = (now or datetime.now(UTC)).date()
    effects: list[EffectSpec] = []
    manual: ManualPaymentIn | None = None
    if outcome.lead is not None:
        fields = {"Status": outcome.lead.status}
        effects.append(
            _spec("lead", "crm", "crm.update_lead", lead_id=outcome.lead.lead_id, fields=fields)
        )
    if outcome.booking is not None:
        b = outcome.booking
        effects.append(
            _spec(
                "booking",
                "calendar",
                "calendar.insert_event",
                calendar_id=b.calendar_id,
                start=b.start.isoformat(),
                end=b.end.isoformat(),
                summary=b.summary,
                attendee_email=b.attendee_email,
            )
        )
    if outcome.payment is not None:
        effect, manual = _payment(call_id, outcome.payment, vault, contact_id, today)
        effects.append(effect)
    after = ("booking",) if outcome.booking is not None else ()
    for index, message in enumerate(outcome.messages):
        effects.append(_message(index, message, after))
    if outcome.slack is not None:
        s = outcome.slack
        effects.append(
            _spec("slack", "slack", "slack.post_message", channel=s.channel, text=s.text)
        )
    if outcome.loan is not None:
        ln = outcome.loan
        effects.append(
            _spec(
                "loan",
                "loans",
                "loans.advance_stage",
                application_id=ln.application_id,
                stage=ln.stage,
            )
        )
    if outcome.callback is not None:
        cb = outcome.callback
        who = contact_id or (outcome.lead.lead_id if outcome.lead is not None else None)
        text = f"Call back at {cb.at.astimezone(UTC).isoformat()}: {cb.reason}"
        task = _task("Callback requested", text, who, cb.at.date(), "Not Started", "High")
        effects.append(_spec("callback", "crm", "crm.create_task", fields=task))
    if contact_id is not None:
        text = f"Disposition: {outcome.disposition}"
        if outcome.summary:
            text += f"\n\n{outcome.summary}"
        task = _task("Voice call", text, contact_id, today, "Completed", "Normal")
        effects.append(_spec("call_log", "crm", "crm.create_task", fields=task))
    properties = {
        "call_id": call_id,
        "disposition": outcome.disposition,
        "effects": [e.name for e in effects],
    }
    effects.append(
        _spec(
            "analytics",
            "analytics",
            "analytics.track",
            user_id=customer_id or phone,
            event="Call Ended",
            properties=properties,
        )
    )
    for effect in effects:
        _check_placeholders(effect.payload, effect.depends_on, _field_of(effect.name))
    return Plan(effects=tuple(effects), manual_payment=manual)


# Which part of the outcome a payload's free text came from, to name it in an error.
_FIELD_OF = {
    "lead": "lead",
    "booking": "booking.summary",
    "slack": "slack.text",
    "callback": "callback.reason",
    "call_log": "summary",
}


def _field_of(name: str) -> str:
    if name.startswith("message_"):
        return f"messages[{int(name.removeprefix('message_')) - 1}].text"
    return _FIELD_OF.get(name, name)


_PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]{0,39})\.([A-Za-z0-9_]{1,64})\}")


def _check_placeholders(value: Any, depends_on: tuple[str, ...], field: str) -> None:
    """A ``${name.field}`` the dispatcher could not fill would fail delivery later, so it
    is refused now (agents do echo template text)."""
    if isinstance(value, str):
        for match in _PLACEHOLDER.finditer(value):
            if match.group(1) not in depends_on:
                hint = "only a message after a booking may quote ${booking.<field>}"
                raise InvalidInput(field, f"{match.group(0)} cannot be filled here: {hint}")
    elif isinstance(value, dict):
        for item in value.values():
            _check_placeholders(item, depends_on, field)
    elif isinstance(value, list):
        for item in value:
            _check_placeholders(item, depends_on, field)


def _spec(
    name: str, system: str, kind: str, *, depends_on: tuple[str, ...] = (), **payload: Any
) -> EffectSpec:
    return EffectSpec(name=name, system=system, kind=kind, payload=payload, depends_on=depends_on)


def _task(
    subject: str, description: str, who: str | None, day: date, status: str, priority: str
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Subject": subject,
        "Description": description,
        "ActivityDate": day.isoformat(),
        "Status": status,
        "Priority": priority,
    }
    if who is not None:  # a Task may stand alone; an empty WhoId would be refused
        fields["WhoId"] = who
    return fields


def _payment(
    call_id: str, payment: Payment, vault: CardVault, contact_id: str | None, today: date
) -> tuple[EffectSpec, ManualPaymentIn | None]:
    sealed = vault.seal(payment.card) if payment.card is not None else None
    if not payment.manual:
        effect = _spec(
            "payment",
            "payments",
            "payments.charge",
            amount=payment.amount,
            currency=payment.currency,
            card_sealed=sealed.token if sealed else None,
            payment_method=payment.payment_method,
            last4=sealed.last4 if sealed else None,
            metadata={"call_id": call_id},
        )
        if payment.capture == "manual":
            effect.payload["capture_method"] = "manual"
        return effect, None
    assert sealed is not None  # the model refuses a manual payment without a card
    manual = ManualPaymentIn(
        call_id=call_id,
        token=sealed.token,
        last4=sealed.last4,
        brand=sealed.brand,
        amount=payment.amount,
        currency=payment.currency,
    )
    amount = f"{payment.amount / 100:.2f} {payment.currency.upper()}"
    text = (
        f"Charge {amount} to the {sealed.brand} card ending {sealed.last4}, held sealed in "
        f"the payment vault for call {call_id} (Switchboard: manual payments)."
    )
    task = _task("Take card payment by phone", text, contact_id, today, "Not Started", "High")
    return _spec("payment_callback", "crm", "crm.create_task", fields=task), manual


def _message(index: int, message: Message, after: tuple[str, ...]) -> EffectSpec:
    name = f"message_{index + 1}"
    if message.channel == "email":
        subject = message.subject or (_SUBJECT_AFTER_BOOKING if after else _SUBJECT_PLAIN)
        text = message.text or (_TEXT_AFTER_BOOKING if after else _TEXT_PLAIN)
        return _spec(
            name, "email", "email.send", depends_on=after, to=message.to, subject=subject, text=text
        )
    # Twilio's "whatsapp:" address prefix is the delivery's business; the number is ours.
    number = message.to.removeprefix("whatsapp:")
    to = normalize_phone(number, field=f"messages[{index}].to")
    body = message.text or (_TEXT_AFTER_BOOKING if after else _TEXT_PLAIN)
    return _spec(
        name,
        "messaging",
        "messaging.send",
        depends_on=after,
        channel=message.channel,
        to=to,
        body=body,
    )
