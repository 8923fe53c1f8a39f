"""Twilio's Calls resource (API version 2010-04-01), read-only: the account's call history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.telephony.listing import STATUSES, BadParameter, CallQuery, list_page
from mocks.telephony.twilio_format import API_VERSION, call_instance, call_uri, calls_uri

if TYPE_CHECKING:
    from mocks.telephony.service import TelephonyService

__all__ = ["build_router", "fallback_router"]

_LIST_DOC = (
    "Newest first. Filters: To, From, ParentCallSid, Status ("
    + ", ".join(STATUSES)
    + "), StartTime / EndTime with optional < or > (YYYY-MM-DD or a UTC timestamp). "
    "Paging: PageSize (1-1000, default 50), Page, PageToken; follow next_page_uri."
)


def build_router(service: TelephonyService) -> APIRouter:
    router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}", tags=["calls"])
    log = service.calls

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content=service.error_body(status, "", message))

    def not_found(resource: str) -> JSONResponse:
        return error(404, f"The requested resource {resource} was not found")

    @router.get("/Calls.json", summary="Read the call history", description=_LIST_DOC)
    async def list_calls(account_sid: str, request: Request) -> Any:
        if account_sid != service.account_sid:
            return not_found(calls_uri(account_sid))
        try:
            query = CallQuery.parse(request.query_params)
            calls, envelope = list_page(log, query, calls_uri(account_sid))
        except BadParameter as exc:
            return error(400, str(exc))
        return {"calls": [call_instance(c, account_sid) for c in calls], **envelope}

    @router.post("/Calls.json", summary="Not served: this mock is call history only")
    async def create_call(account_sid: str) -> Any:
        return error(405, "Method not allowed: the Switchboard telephony mock is read-only")

    @router.get("/Calls/{call_sid}.json", summary="Fetch one call")
    async def fetch_call(account_sid: str, call_sid: str) -> Any:
        call = log.get(call_sid) if account_sid == service.account_sid else None
        if call is None:
            return not_found(call_uri(account_sid, call_sid))
        return call_instance(call, account_sid)

    return router


def fallback_router(service: TelephonyService) -> APIRouter:
    """Anything else under /telephony: Twilio's 404, not FastAPI's."""
    router = APIRouter(include_in_schema=False)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unknown(path: str) -> JSONResponse:
        body = service.error_body(404, "not_found", f"The requested resource /{path} was not found")
        return JSONResponse(status_code=404, content=body)

    return router
