"""How each kind of effect is delivered: one handler per kind, over the write clients.

A handler gets the payload with its ``${dep.field}`` placeholders already resolved, calls
one vendor under the effect's idempotency key, and returns a small JSON-serialisable
result that later effects of the same call may quote. Errors are the vendor clients'
``SourceError`` kinds, so the dispatcher's retry-or-dead decision reads them directly.

A payload that lacks what its kind needs can never be delivered, however often it is
tried: that is a ``Rejected`` too (operation ``payload``), not a KeyError from deep inside.
Card numbers exist here only between ``open_card`` and Stripe; results carry last4 only.

A kind may also say what else changes once it is delivered (``AFTER_DELIVERY``), in the
same transaction as the delivered verdict: a text is linked to its carrier id for the
status callbacks; a charged card's sealed number is dropped from the payload. The outbox
itself knows no vendor.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import Connection

from integration.clients._http import AttemptState
from integration.clients.writes import WriteClients
from integration.errors import Rejected
from integration.outbox.model import EffectRow
from integration.outbox.payment_events import link_intent
from integration.outbox.receipts import link
from integration.store.sql import Sql

__all__ = [
    "AFTER_DELIVERY",
    "DELIVERIES",
    "SYSTEM_OF_KIND",
    "AfterDelivery",
    "Delivery",
    "DeliveryContext",
]


@dataclass(frozen=True)
class DeliveryContext:
    clients: WriteClients
    # The vault's opener: a sealed card token in, {number, exp_month, exp_year} out.
    open_card: Callable[[str], dict[str, Any]]


_CARD_FIELDS = ("number", "exp_month", "exp_year")

Delivery = Callable[[DeliveryContext, AttemptState, dict[str, Any], str], Awaitable[dict[str, Any]]]
# (the verdict's transaction, the effect, what the delivery returned, now)
AfterDelivery = Callable[[Connection, EffectRow, dict[str, Any], float], None]


def _need(system: str, payload: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if payload.get(name) in (None, "")]
    if missing:
        raise Rejected(system, "payload", f"payload lacks {', '.join(missing)}")
    return [payload[name] for name in names]


def _object(system: str, payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise Rejected(system, "payload", f"payload field {name} must be an object")
    return value


async def _update_lead(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    (lead_id,) = _need("crm", payload, "lead_id")
    fields = _object("crm", payload, "fields")
    done = await ctx.clients.crm.update_lead(attempt, str(lead_id), fields, key)
    return {"id": done["id"], "automations": done.get("automations")}


async def _create_task(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    fields = _object("crm", payload, "fields")
    done = await ctx.clients.crm.create_task(attempt, fields, key)
    return {"id": done["id"]}


async def _insert_event(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    start, end, summary = _need("calendar", payload, "start", "end", "summary")
    event = await ctx.clients.calendar.insert_event(
        attempt,
        calendar_id=str(payload.get("calendar_id") or "primary"),
        start=start,
        end=end,
        summary=str(summary),
        attendee_email=payload.get("attendee_email"),
        key=key,
    )
    # A confirmation text quotes ${booking.start}: the time itself, not Google's object.
    begins = event.get("start")
    when = (begins.get("dateTime") or begins.get("date")) if isinstance(begins, dict) else begins
    return {"id": event["id"], "htmlLink": event.get("htmlLink"), "start": when}


async def _send_message(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    to, body = _need("messaging", payload, "to", "body")
    given = payload.get("channel") or "sms"
    if given not in ("sms", "whatsapp"):
        raise Rejected("messaging", "payload", f"channel {given!r} is not sms or whatsapp")
    channel: Literal["sms", "whatsapp"] = "whatsapp" if given == "whatsapp" else "sms"
    message = await ctx.clients.messaging.send(
        attempt, to=str(to), body=str(body), key=key, channel=channel
    )
    return {"sid": message["sid"], "status": message.get("status")}


async def _send_email(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    to, subject, text = _need("email", payload, "to", "subject", "text")
    sent = await ctx.clients.email.send(
        attempt, to=str(to), subject=str(subject), text=str(text), key=key
    )
    return {"message_id": sent["message_id"]}


async def _post_slack(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    channel, text = _need("slack", payload, "channel", "text")
    posted = await ctx.clients.slack.post_message(
        attempt, channel=str(channel), text=str(text), key=key
    )
    return {"ts": posted["ts"], "channel": posted.get("channel")}


async def _track(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    user_id, event = _need("analytics", payload, "user_id", "event")
    properties = payload.get("properties") or {}
    if not isinstance(properties, dict):
        raise Rejected("analytics", "payload", "payload field properties must be an object")
    await ctx.clients.analytics.track(
        attempt, user_id=str(user_id), event=str(event), properties=properties, key=key
    )
    return {"message_id": key}


async def _charge(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    amount, currency = _need("payments", payload, "amount", "currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise Rejected("payments", "payload", "payload amount must be a positive integer")
    sealed, method = payload.get("card_sealed"), payload.get("payment_method")
    if bool(sealed) == bool(method):
        raise Rejected("payments", "payload", "payload needs one of card_sealed, payment_method")
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Rejected("payments", "payload", "payload field metadata must be an object")
    try:
        card = ctx.open_card(str(sealed)) if sealed else None
    except ValueError:  # sealed under another key: no retry will ever open it
        raise Rejected("payments", "payload", "the sealed card cannot be opened") from None
    if card is not None and any(card.get(name) in (None, "") for name in _CARD_FIELDS):
        raise Rejected("payments", "payload", "the sealed card opened without all its fields")
    intent = await ctx.clients.payments.charge(
        attempt,
        amount=amount,
        currency=str(currency),
        key=key,
        card=card,
        payment_method=str(method) if method else None,
        metadata={str(k): str(v) for k, v in metadata.items()},
        manual_capture=payload.get("capture_method") == "manual",
    )
    return {"id": intent["id"], "status": intent.get("status"), "last4": payload.get("last4")}


async def _advance_stage(
    ctx: DeliveryContext, attempt: AttemptState, payload: dict[str, Any], key: str
) -> dict[str, Any]:
    application_id, stage = _need("loans", payload, "application_id", "stage")
    moved = await ctx.clients.loans.advance_stage(attempt, str(application_id), str(stage), key)
    return {"application_id": moved.get("application_id", application_id), "stage": moved["stage"]}


DELIVERIES: Mapping[str, Delivery] = MappingProxyType(
    {
        "crm.update_lead": _update_lead,
        "crm.create_task": _create_task,
        "calendar.insert_event": _insert_event,
        "messaging.send": _send_message,
        "email.send": _send_email,
        "slack.post_message": _post_slack,
        "analytics.track": _track,
        "payments.charge": _charge,
        "loans.advance_stage": _advance_stage,
    }
)


def _link_carrier_id(conn: Connection, row: EffectRow, result: dict[str, Any], now: float) -> None:
    """The text's carrier id, so its status callbacks find it (see ``receipts``)."""
    sid = result.get("sid")
    if sid:
        link(conn, str(sid), row.id, now)


_UNSEAL = Sql("UPDATE outbox_effects SET payload = :payload WHERE id = :id")


def _drop_card(conn: Connection, row: EffectRow, result: dict[str, Any], now: float) -> None:
    """Charged: the sealed card has done its job and is not kept a moment longer."""
    if row.payload.get("card_sealed"):
        unsealed = json.dumps({**row.payload, "card_sealed": None}, sort_keys=True)
        _UNSEAL.count(conn, {"payload": unsealed, "id": row.id})


def _charged(conn: Connection, row: EffectRow, result: dict[str, Any], now: float) -> None:
    """The card dropped, and the intent tied to the call (its early events applied)."""
    _drop_card(conn, row, result, now)
    link_intent(conn, row, result, now)


AFTER_DELIVERY: Mapping[str, AfterDelivery] = MappingProxyType(
    {
        "messaging.send": _link_carrier_id,
        "payments.charge": _charged,
    }
)

# Every kind is "<system>.<operation>"; spelled out so a kind that breaks the pattern would
# have to be added here on purpose.
SYSTEM_OF_KIND: Mapping[str, str] = MappingProxyType(
    {
        "crm.update_lead": "crm",
        "crm.create_task": "crm",
        "calendar.insert_event": "calendar",
        "messaging.send": "messaging",
        "email.send": "email",
        "slack.post_message": "slack",
        "analytics.track": "analytics",
        "payments.charge": "payments",
        "loans.advance_stage": "loans",
    }
)
