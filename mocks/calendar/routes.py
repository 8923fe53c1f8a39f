"""Google Calendar API v3 routes: events, free/busy and the calendar list.

Mounted under ``/calendar``, so the API root is ``/calendar/calendar/v3`` and a Google client
configured with root URL ``<mocks>/calendar/`` and service path ``calendar/v3/`` just works.
google-api-python-client takes both at once: ``build("calendar", "v3", credentials=...,
client_options={"api_endpoint": "<mocks>/calendar/calendar/v3/"})`` (docs/sdk-recipes.md).
Bodies are read by hand (not by pydantic) so every refusal is in Google's shape.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from mocks.calendar._queries import EventQuery
from mocks.calendar.errors import GoogleError, GoogleErrorBody, GoogleErrorRoute
from mocks.calendar.service import CalendarService, event_response
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, json_body
from mocks.platform.idempotency import StoredResponse, fingerprint
from mocks.platform.state import service_in

__all__ = ["Calendar", "current_calendar", "router"]

router = APIRouter(
    prefix="/calendar/v3",
    route_class=GoogleErrorRoute,
    tags=["calendar"],
    responses=error_responses(GoogleErrorBody, *GATEWAY_STATUSES),
)


def _errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(GoogleErrorBody, *statuses)


_TIME = {
    "type": "object",
    "properties": {
        "dateTime": {"type": "string", "format": "date-time"},
        "date": {"type": "string", "format": "date", "description": "an all-day event"},
        "timeZone": {"type": "string"},
    },
}
_EVENT_FIELDS = {
    "summary": {"type": "string"},
    "description": {"type": "string"},
    "location": {"type": "string"},
    "start": _TIME,
    "end": _TIME,
    "attendees": {
        "type": "array",
        "items": {"type": "object", "properties": {"email": {"type": "string"}}},
    },
    "status": {"type": "string", "enum": ["confirmed", "tentative", "cancelled"]},
    "transparency": {"type": "string", "enum": ["opaque", "transparent"]},
}
_NEW_EVENT = json_body(
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "optional: 5-1024 of a-v and 0-9"},
            **_EVENT_FIELDS,
        },
        "required": ["start", "end"],
    }
)
_EVENT_CHANGES = json_body({"type": "object", "properties": _EVENT_FIELDS})
_FREE_BUSY = json_body(
    {
        "type": "object",
        "properties": {
            "timeMin": {"type": "string", "format": "date-time"},
            "timeMax": {"type": "string", "format": "date-time"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        },
        "required": ["timeMin", "timeMax", "items"],
    }
)


async def current_calendar(request: Request) -> CalendarService:
    return service_in(request, CalendarService)


Calendar = Annotated[CalendarService, Depends(current_calendar)]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GoogleError(400, "parseError", "Parse Error") from exc


def _render(stored: StoredResponse) -> Response:
    headers = dict(stored.headers)
    if stored.body is None:
        return Response(status_code=stored.status, headers=headers)
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)


def _write_print(request: Request, body: Any) -> str:
    return fingerprint(request.method, request.url.path, body)


@router.get("/users/me/calendarList", summary="calendarList.list")
async def calendar_list(calendar: Calendar) -> dict[str, Any]:
    return calendar.calendar_list()


@router.get("/calendars/{calendar_id}", summary="calendars.get", responses=_errors(404))
async def get_calendar(calendar_id: str, calendar: Calendar) -> dict[str, Any]:
    return calendar.calendar_json(calendar_id)


@router.get("/calendars/{calendar_id}/events", summary="events.list", responses=_errors(400, 404))
async def list_events(calendar_id: str, request: Request, calendar: Calendar) -> dict[str, Any]:
    query = EventQuery.from_params(request.query_params)
    return calendar.list_events(calendar_id, query)


@router.post(
    "/calendars/{calendar_id}/events",
    summary="events.insert",
    responses=_errors(*BODY_STATUSES, 404, 409),
    openapi_extra=_NEW_EVENT,
)
async def insert_event(calendar_id: str, request: Request, calendar: Calendar) -> Response:
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    stored = await calendar.insert_event(calendar_id, body, key, _write_print(request, body))
    return _render(stored)


@router.get(
    "/calendars/{calendar_id}/events/{event_id}", summary="events.get", responses=_errors(404)
)
async def get_event(
    calendar_id: str, event_id: str, request: Request, calendar: Calendar
) -> Response:
    event = calendar.store.event(calendar_id, event_id)
    if request.headers.get("if-none-match") == event.etag:
        return Response(status_code=304, headers={"etag": event.etag})
    return _render(event_response(200, event))


@router.patch(
    "/calendars/{calendar_id}/events/{event_id}",
    summary="events.patch",
    responses=_errors(*BODY_STATUSES, 404, 409, 412),
    openapi_extra=_EVENT_CHANGES,
)
async def patch_event(
    calendar_id: str, event_id: str, request: Request, calendar: Calendar
) -> Response:
    body = await _json_body(request)
    stored = await calendar.patch_event(
        calendar_id,
        event_id,
        body,
        request.headers.get("if-match"),
        request.headers.get("idempotency-key"),
        _write_print(request, body),
    )
    return _render(stored)


@router.delete(
    "/calendars/{calendar_id}/events/{event_id}",
    summary="events.delete",
    responses=_errors(404, 409, 410, 412),
)
async def delete_event(
    calendar_id: str, event_id: str, request: Request, calendar: Calendar
) -> Response:
    stored = await calendar.delete_event(
        calendar_id,
        event_id,
        request.headers.get("if-match"),
        request.headers.get("idempotency-key"),
        _write_print(request, None),
    )
    return _render(stored)


@router.post(
    "/freeBusy",
    summary="freebusy.query",
    responses=_errors(*BODY_STATUSES),
    openapi_extra=_FREE_BUSY,
)
async def query_free_busy(request: Request, calendar: Calendar) -> dict[str, Any]:
    return calendar.free_busy(await _json_body(request))
