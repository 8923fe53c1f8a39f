"""What vendors post back: Twilio's message status callbacks and Stripe's payment events.

Twilio posts a form (``MessageSid``, ``MessageStatus``, ``ErrorCode``...) to the
``StatusCallback`` the messaging client asked for, signed with the account's auth token in
``X-Twilio-Signature``, and retries any answer that is not 2xx. So an unsigned or forged
post is a 403 and a malformed one a 400 naming the field (no retry fixes either), and any
other is recorded, published as a ``callback`` event and answered 200 at once: duplicates
and late statuses are counted and change nothing (``integration/outbox/message_status.py``
has the ordering rules).

Stripe posts JSON events signed in ``Stripe-Signature`` (``clients/stripe_events.py``):
a missing, wrong or stale signature or a body that is no event is a 400 that never repeats
the input; a good one is taken once by its id and answered 200 with its verdict
(``outbox/payment_events.py`` has the rules, among them what happens to an event that comes
before the charge's own answer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from integration.api.front import hot
from integration.api.layer import layer_of
from integration.clients.messaging import valid_twilio_signature
from integration.clients.stripe_events import SIGNATURE_HEADER, EventRefused, verify_event
from integration.outbox.message_status import MESSAGE_STATUSES
from integration.outbox.payment_events import EVENT_STATUS, PaymentEvent
from integration.settings import PAYMENTS_WEBHOOK_PATH, STATUS_CALLBACK_PATH

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["router"]

_SID = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")  # SM... for a text, MM... with media
_ERROR_CODE = re.compile(r"^[0-9]{1,8}$")
_KNOWN = ", ".join(sorted(MESSAGE_STATUSES))
_UNSIGNED = (
    "X-Twilio-Signature is missing: status callbacks are taken only from Twilio, signed "
    "with the account's auth token"
)
_FORGED = (
    "X-Twilio-Signature does not match this request: signed with another auth token, or "
    "for a URL other than {url}"
)


router = APIRouter(tags=["vendor callbacks"])


@hot(
    router,
    "POST",
    STATUS_CALLBACK_PATH,
    summary="Twilio message status callback: record the text's carrier status",
    response_model=None,
    responses={
        400: {"description": "a field is missing or malformed (named)"},
        403: {"description": "X-Twilio-Signature missing or wrong"},
    },
)
async def twilio_status(request: Request) -> Response:
    layer = layer_of(request)
    form = await request.form()
    params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise _refuse(layer, 403, "bad_signature", _UNSIGNED)
    urls = _signed_urls(layer, request)
    auth_token = layer.settings.credentials.twilio_auth_token
    if not valid_twilio_signature(signature, urls, params, auth_token):
        raise _refuse(layer, 403, "bad_signature", _FORGED.format(url=urls[0]))
    fields = dict(params)
    sid = fields.get("MessageSid", "")
    if not _SID.match(sid):
        said = f"{sid!r} is not a message sid (SM + 32 hex digits)" if sid else "missing"
        raise _refuse(layer, 400, "bad_request", f"MessageSid: {said}")
    status = fields.get("MessageStatus", "")
    if status not in MESSAGE_STATUSES:
        said = f"unknown status {status!r} (one of {_KNOWN})" if status else "missing"
        raise _refuse(layer, 400, "bad_request", f"MessageStatus: {said}")
    error_code = fields.get("ErrorCode") or None
    if error_code is not None and not _ERROR_CODE.match(error_code):
        raise _refuse(layer, 400, "bad_request", f"ErrorCode: {error_code!r} is not a number")
    receipt = await layer.receipts.record(sid, status, error_code)
    layer.outbox_metrics.observe_callback(status, receipt.verdict, receipt.matched)
    layer.sink.emit(
        "callback",
        call_id=receipt.call_id,
        system="messaging",
        operation="status_callback",
        outcome=receipt.verdict,
        detail={
            "message_sid": sid,
            "status": status,
            "recorded": receipt.status,
            "error_code": error_code,
            "effect_id": receipt.effect_id,
        },
    )
    return JSONResponse(
        {
            "message_sid": sid,
            "status": receipt.status,  # the recorded status after this callback
            "verdict": receipt.verdict,
            "matched": receipt.matched,
        }
    )


@router.get("/messages/status", summary="Texts' carrier status, from Twilio's callbacks")
async def message_statuses(
    request: Request,
    call_id: str | None = None,
    message_sid: str | None = None,
    unmatched: bool = Query(False, description="only callbacks no sent text matches yet"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    layer = layer_of(request)
    found = await layer.receipts.find(
        call_id=call_id, message_sid=message_sid, unmatched=unmatched, limit=limit
    )
    return {"status_callback": layer.settings.status_callback_url, "messages": found}


def _refuse(layer: Integration, status: int, reason: str, detail: str) -> HTTPException:
    layer.outbox_metrics.callbacks_refused.labels(reason).inc()
    return HTTPException(status, detail=detail)


def _signed_urls(layer: Integration, request: Request) -> list[str]:
    """Twilio signs the URL it was given, query included; behind a proxy that is not the
    URL the request reached, so both are tried."""
    reached = str(request.url)
    asked = layer.settings.status_callback_url
    if asked is None:
        return [reached]
    query = request.url.query
    return [asked + (f"?{query}" if query else ""), reached]


@router.post(
    PAYMENTS_WEBHOOK_PATH,
    summary="Stripe's signed payment events: update the call's payment status",
    response_model=None,
    responses={
        400: {"description": "Stripe-Signature missing, wrong or stale, or not an event"},
    },
)
async def payment_event(request: Request) -> Response:
    layer = layer_of(request)
    payload = await request.body()
    try:
        signed = verify_event(
            payload,
            request.headers.get(SIGNATURE_HEADER),
            layer.access.payments_webhook_secret,
            now=layer.wall_clock(),
            tolerance_s=layer.settings.payments_webhook_tolerance_s,
        )
    except EventRefused as refused:
        layer.sink.emit(
            "callback",
            system="payments",
            operation="payment_event",
            outcome="refused",
            detail={"reason": refused.reason},
        )
        return JSONResponse({"detail": str(refused)}, status_code=400)
    if signed.intent_id is None:  # an event about something else: taken, nothing to do
        return JSONResponse({"id": signed.event_id, "verdict": "ignored"})
    receipt = await layer.payment_events.record(
        PaymentEvent(signed.event_id, signed.type, signed.intent_id, signed.created)
    )
    layer.sink.emit(
        "callback",
        call_id=receipt.call_id,
        system="payments",
        operation="payment_event",
        outcome=receipt.verdict,
        detail={
            "event_id": signed.event_id,
            "type": signed.type,
            "intent_id": signed.intent_id,
            "status": receipt.status,
            "notice": receipt.notice,
        },
    )
    return JSONResponse(
        {
            "id": signed.event_id,
            "verdict": receipt.verdict,
            "intent_id": receipt.intent_id,
            "status": receipt.status,
            "call_id": receipt.call_id,
        }
    )


@router.get("/payments/status", summary="Payments' status from Stripe's events, per intent")
async def payment_statuses(
    request: Request,
    call_id: str | None = Query(None, max_length=64),
    intent_id: str | None = Query(None, max_length=64),
    pending: bool = Query(False, description="only intents no call's payment is linked to yet"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    found = await layer_of(request).payment_events.find(
        call_id=call_id, intent_id=intent_id, pending=pending, limit=limit
    )
    return {"payments": found}


@router.get(
    "/payments/webhook-endpoint",
    summary="Where Stripe should post payment events, and the secret to sign them with",
)
async def payment_webhook_endpoint(request: Request) -> dict[str, Any]:
    # Behind the API token, like everything that changes or reveals the layer's state: what
    # an operator pastes into Stripe's dashboard (the scenarios configure the mock with it).
    layer = layer_of(request)
    base = layer.settings.public_url or str(request.base_url).rstrip("/")
    return {
        "url": base + PAYMENTS_WEBHOOK_PATH,
        "secret": layer.access.payments_webhook_secret,
        "tolerance_s": layer.settings.payments_webhook_tolerance_s,
        "events": sorted(EVENT_STATUS),
    }
