"""Twilio's Messages resource (API version 2010-04-01): create, fetch, list.

Bodies are form-encoded as Twilio wants them and parsed by hand, so a bad field gets
Twilio's error (code and message) rather than FastAPI's validation shape.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.messaging.addresses import parse_from
from mocks.messaging.errors import TwilioError, error_response
from mocks.messaging.send import parse_send_request
from mocks.messaging.store import API_VERSION, MessageFilter
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from mocks.messaging.service import MessagingService

__all__ = ["IDEMPOTENCY_HEADERS", "build_router"]

# Twilio has no idempotency header on its REST API (I-Twilio-Idempotency-Token is what it
# puts on webhooks), so the platform's Idempotency-Key is used and Twilio's name accepted.
IDEMPOTENCY_HEADERS = ("idempotency-key", "i-twilio-idempotency-token")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _idempotency_key(request: Request) -> str | None:
    for name in IDEMPOTENCY_HEADERS:
        value = request.headers.get(name)
        if value:
            return value
    return None


def build_router(service: MessagingService) -> APIRouter:
    router = APIRouter(tags=["Messages"])
    base = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"

    @router.post(f"{base}.json", status_code=201, summary="Send an SMS or WhatsApp message")
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        try:
            draft = parse_send_request(pairs)
        except TwilioError as error:
            return error_response(error)
        key = _idempotency_key(request)

        async def apply() -> StoredResponse:
            message = service.send(account_sid, draft, key)
            return StoredResponse(201, message.to_json())

        try:
            stored, replayed = await service.idempotency.run(
                key, fingerprint("POST", account_sid, sorted(pairs)), apply
            )
        except IdempotencyMismatch:
            return error_response(TwilioError(
                400, 20422, f"Idempotency-Key {key} was already used with other parameters."
            ))
        except IdempotencyConflict:
            return error_response(TwilioError(
                409, 20409, f"A request with Idempotency-Key {key} is still being processed."
            ))
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(stored.body, status_code=stored.status, headers=headers)

    @router.get(f"{base}/{{sid}}.json", summary="Fetch one message")
    async def fetch_message(account_sid: str, sid: str) -> JSONResponse:
        message = service.store.get(sid)
        if message is None or message.account_sid != account_sid:
            uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
            return error_response(TwilioError(
                404, 20404, f"The requested resource {uri} was not found"
            ))
        return JSONResponse(message.to_json())

    @router.get(f"{base}.json", summary="List messages, newest first, in pages")
    async def list_messages(account_sid: str, request: Request) -> JSONResponse:
        try:
            where, filters = _filters(request)
            page, size = _paging(request)
        except TwilioError as error:
            return error_response(error)
        found = [m for m in service.store.select(where) if m.account_sid == account_sid]
        start = page * size
        chunk = found[start : start + size]
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode([*filters, ('PageSize', size), ('Page', number)])}"

        body: dict[str, Any] = {
            "messages": [m.to_json() for m in chunk],
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + size < len(found) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }
        return JSONResponse(body)

    return router


def _canonical(raw: str) -> str:
    """Match filters the way numbers are stored (E.164, channel prefix kept)."""
    try:
        return str(parse_from(raw))
    except TwilioError:
        return raw


def _filters(request: Request) -> tuple[MessageFilter, list[tuple[str, str]]]:
    query = request.query_params
    kept = [(name, query[name]) for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if query.get(name)]
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
            400, 20422, f"Invalid {name} '{raw}': expected YYYY-MM-DD or an ISO 8601 time."
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
    if page < 0:
        raise TwilioError(400, 20422, "Page must not be negative.")
    return page, size
