"""Twilio's Calls resource (API version 2010-04-01), read-only: the account's call history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.platform.apidocs import GATEWAY_STATUSES, error_responses, form_body
from mocks.platform.state import service_in
from mocks.platform.system_app import ANY_METHOD
from mocks.telephony.listing import STATUSES, BadParameter, CallQuery, list_page
from mocks.telephony.service import TelephonyService
from mocks.telephony.twilio_format import (
    API_VERSION,
    TwilioErrorBody,
    call_instance,
    calls_uri,
)

__all__ = ["Telephony", "current_telephony", "router"]

_LIST_DOC = (
    "Newest first. Filters: To, From, ParentCallSid, Status ("
    + ", ".join(STATUSES)
    + "), StartTime / EndTime with optional < or > (YYYY-MM-DD or a UTC timestamp). "
    "Paging: PageSize (1-1000, default 50), Page, PageToken; follow next_page_uri."
)

calls = APIRouter(
    prefix=f"/{API_VERSION}/Accounts/{{account_sid}}",
    tags=["calls"],
    responses=error_responses(TwilioErrorBody, *GATEWAY_STATUSES),
)
# Twilio's Create Call form, documented though this mock refuses it (405): it is read-only.
_CREATE_CALL = form_body(
    {"To": "the number to call", "From": "a Twilio number", "Url": "TwiML for the call"},
    required=["To", "From"],
)


async def current_telephony(request: Request) -> TelephonyService:
    return service_in(request, TelephonyService)


Telephony = Annotated[TelephonyService, Depends(current_telephony)]


def _error(telephony: TelephonyService, status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=telephony.error_body(status, "", message))


def _not_found(telephony: TelephonyService, why: str) -> JSONResponse:
    # Twilio quotes the URI it could not find; this says why instead of repeating the path.
    return _error(telephony, 404, f"The requested resource was not found: {why}")


@calls.get(
    "/Calls.json",
    summary="Read the call history",
    description=_LIST_DOC,
    responses=error_responses(TwilioErrorBody, 400, 404),
)
async def list_calls(account_sid: str, request: Request, telephony: Telephony) -> Any:
    if account_sid != telephony.account_sid:
        return _not_found(telephony, "the AccountSid is not this account's")
    try:
        query = CallQuery.parse(request.query_params)
        found, envelope = list_page(telephony.calls, query, calls_uri(account_sid))
    except BadParameter as exc:
        return _error(telephony, 400, str(exc))
    return {"calls": [call_instance(c, account_sid) for c in found], **envelope}


@calls.post(
    "/Calls.json",
    summary="Not served: this mock is call history only",
    responses=error_responses(TwilioErrorBody, 405, 413),
    openapi_extra=_CREATE_CALL,
)
async def create_call(account_sid: str, telephony: Telephony) -> Any:
    return _error(telephony, 405, "Method not allowed: the Switchboard telephony mock is read-only")


@calls.get(
    "/Calls/{call_sid}.json",
    summary="Fetch one call",
    responses=error_responses(TwilioErrorBody, 404),
)
async def fetch_call(account_sid: str, call_sid: str, telephony: Telephony) -> Any:
    call = telephony.calls.get(call_sid) if account_sid == telephony.account_sid else None
    if call is None:
        return _not_found(telephony, "this account has no call with that CallSid")
    return call_instance(call, account_sid)


fallback = APIRouter(include_in_schema=False)


@fallback.api_route("/{path:path}", methods=ANY_METHOD)
async def unknown(path: str, telephony: Telephony) -> JSONResponse:
    """Anything else under /telephony: Twilio's 404, not FastAPI's."""
    return _not_found(telephony, "the API has no such path")


router = APIRouter()
router.include_router(calls)
router.include_router(fallback)  # last, so it only catches the rest
