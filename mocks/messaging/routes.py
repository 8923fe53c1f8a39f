"""Twilio's Messages resource (API version 2010-04-01): create, fetch, list.

Bodies are form-encoded as Twilio wants them and parsed by hand, so a bad field gets
Twilio's error (code and message) rather than FastAPI's validation shape: handlers raise
``TwilioError`` and the route class answers it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.messaging.addresses import parse_from
from mocks.messaging.errors import TwilioError, TwilioErrorBody, TwilioErrorRoute
from mocks.messaging.service import MessagingService
from mocks.messaging.store import API_VERSION, MessageFilter
from mocks.platform.apidocs import (
    BODY_STATUSES,
    GATEWAY_STATUSES,
    error_responses,
    form_body,
)
from mocks.platform.state import service_in

__all__ = ["IDEMPOTENCY_HEADERS", "Messaging", "current_messaging", "router"]

# Twilio has no idempotency header on its REST API (I-Twilio-Idempotency-Token is what it
# puts on webhooks), so the platform's Idempotency-Key is used and Twilio's name accepted.
IDEMPOTENCY_HEADERS = ("idempotency-key", "i-twilio-idempotency-token")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10**9  # far past the last message, and small enough to print in a page URI


def _idempotency_key(request: Request) -> str | None:
    for name in IDEMPOTENCY_HEADERS:
        value = request.headers.get(name)
        if value:
            return value
    return None


router = APIRouter(
    route_class=TwilioErrorRoute,
    tags=["Messages"],
    responses=error_responses(TwilioErrorBody, *GATEWAY_STATUSES),
)
_SEND_FORM = form_body(
    {
        "To": "E.164 number, or whatsapp:+E.164",
        "From": "a sender number (or MessagingServiceSid)",
        "MessagingServiceSid": "MG...: lets the service pick the sender",
        "Body": "the text, up to 1,600 characters",
        "MediaUrl": "an http(s) URL of media to attach (repeatable, up to 10)",
        "ContentSid": "HX...: a content template",
        "StatusCallback": "an http(s) URL that gets each status change, signed",
    },
    required=["To"],
)
_BASE = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"


async def current_messaging(request: Request) -> MessagingService:
    return service_in(request, MessagingService)


Messaging = Annotated[MessagingService, Depends(current_messaging)]


@router.post(
    f"{_BASE}.json",
    status_code=201,
    summary="Send an SMS or WhatsApp message",
    responses=error_responses(TwilioErrorBody, *BODY_STATUSES, 409),
    openapi_extra=_SEND_FORM,
)
async def create_message(account_sid: str, request: Request, messaging: Messaging) -> JSONResponse:
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    key = _idempotency_key(request)
    stored, replayed = await messaging.create_message(account_sid, pairs, key)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)


@router.get(
    f"{_BASE}/{{sid}}.json",
    summary="Fetch one message",
    responses=error_responses(TwilioErrorBody, 404),
)
async def fetch_message(account_sid: str, sid: str, messaging: Messaging) -> JSONResponse:
    return JSONResponse(messaging.fetch(account_sid, sid))


@router.get(
    f"{_BASE}.json",
    summary="List messages, newest first, in pages",
    responses=error_responses(TwilioErrorBody, 400),
)
async def list_messages(account_sid: str, request: Request, messaging: Messaging) -> JSONResponse:
    where, filters = _filters(request)
    page, size = _paging(request)
    return JSONResponse(messaging.page(account_sid, where, filters, page, size))


def _canonical(raw: str) -> str:
    """Match filters the way numbers are stored (E.164, channel prefix kept)."""
    try:
        return str(parse_from(raw))
    except TwilioError:
        return raw


def _filters(request: Request) -> tuple[MessageFilter, list[tuple[str, str]]]:
    query = request.query_params
    kept = [
        (name, query[name])
        for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
        if query.get(name)
    ]
    given = dict(kept)
    where = MessageFilter(
        to=_canonical(given["To"]) if "To" in given else None,
        from_=_canonical(given["From"]) if "From" in given else None,
        sent_on=_when(given, "DateSent", "on").date() if "DateSent" in given else None,
        sent_on_or_before=_when(given, "DateSent<", "end") if "DateSent<" in given else None,
        sent_on_or_after=_when(given, "DateSent>", "start") if "DateSent>" in given else None,
    )
    return where, kept


def _when(given: dict[str, str], name: str, day_edge: str) -> datetime:
    """A ``YYYY-MM-DD`` date or an ISO 8601 time; a bare date covers the whole day."""
    raw = given[name]
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if day_edge == "end" else time.min, UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise TwilioError(
            400, 20422, f"Invalid {name}: expected YYYY-MM-DD or an ISO 8601 time."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _paging(request: Request) -> tuple[int, int]:
    query = request.query_params
    try:
        size = int(query.get("PageSize", DEFAULT_PAGE_SIZE))
        page = int(query.get("Page", 0))
    except ValueError:
        raise TwilioError(400, 20422, "PageSize and Page must be integers.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise TwilioError(400, 20422, f"PageSize must be between 1 and {MAX_PAGE_SIZE}.")
    if not 0 <= page <= MAX_PAGE:
        raise TwilioError(400, 20422, f"Page must be between 0 and {MAX_PAGE}.")
    return page, size
