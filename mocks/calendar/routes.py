"""Google Calendar API v3 routes: events, free/busy and the calendar list.

Mounted under ``/calendar``, so the API root is ``/calendar/calendar/v3`` and a Google client
configured with root URL ``<mocks>/calendar/`` and service path ``calendar/v3/`` just works.
Bodies are read by hand (not by pydantic) so every refusal is in Google's shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mocks.calendar._payload import parse_event_body, validate_event_id
from mocks.calendar._queries import EventQuery, free_busy
from mocks.calendar._times import format_utc
from mocks.calendar.errors import GoogleError, GoogleErrorRoute
from mocks.calendar.models import Event
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from mocks.calendar.service import CalendarService
    from mocks.calendar.store import CalendarStore

__all__ = ["build_router"]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GoogleError(400, "parseError", "Parse Error") from exc


def _check_if_match(request: Request, event: Event) -> None:
    expected = request.headers.get("if-match")
    if expected is not None and expected not in ("*", event.etag):
        raise GoogleError(
            412, "conditionNotMet", "Precondition Failed",
            location="If-Match", location_type="header",
        )


def _event_response(status: int, event: Event) -> StoredResponse:
    return StoredResponse(status, event.to_json(), (("etag", event.etag),))


def _render(stored: StoredResponse) -> Response:
    headers = dict(stored.headers)
    if stored.body is None:
        return Response(status_code=stored.status, headers=headers)
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)


def build_router(service: CalendarService) -> APIRouter:
    router = APIRouter(prefix="/calendar/v3", route_class=GoogleErrorRoute, tags=["calendar"])

    def store() -> CalendarStore:
        return service.store  # reset() swaps the store, so look it up on every call

    async def write(
        request: Request, body: Any, operation: str, change: Callable[[], tuple[int, Event]],
        client_key: str | None = None,
    ) -> Response:
        """Applies ``change`` once per ``Idempotency-Key`` and records it in the ledger."""
        key = request.headers.get("idempotency-key")

        async def apply() -> StoredResponse:
            try:
                status, event = change()
            except GoogleError as exc:
                return StoredResponse(exc.status, exc.body)
            service.ledger.record(
                operation, event.id, key or client_key, calendar=event.calendar_id,
                status=event.status, start=format_utc(event.start.instant),
                end=format_utc(event.end.instant), summary=event.summary,
            )
            if status == 204:
                return StoredResponse(204, None)
            return _event_response(status, event)

        request_print = fingerprint(request.method, request.url.path, body)
        try:
            stored, _ = await service.idempotency.run(key, request_print, apply)
        except IdempotencyMismatch as exc:
            raise GoogleError(
                400, "invalid", "Idempotency-Key was used with a different request.",
                location="Idempotency-Key", location_type="header",
            ) from exc
        except IdempotencyConflict as exc:
            raise GoogleError(
                409, "idempotencyKeyInUse", "A request with this Idempotency-Key is in progress.",
                location="Idempotency-Key", location_type="header",
            ) from exc
        return _render(stored)

    @router.get("/users/me/calendarList", summary="calendarList.list")
    async def calendar_list() -> dict[str, Any]:
        current = store()
        entries = [c.to_list_entry(c.id == current.primary_id) for c in current.calendars.values()]
        return {"kind": "calendar#calendarList", "items": entries}

    @router.get("/calendars/{calendar_id}", summary="calendars.get")
    async def get_calendar(calendar_id: str) -> dict[str, Any]:
        calendar = store().calendar(calendar_id)
        return {"kind": "calendar#calendar", "id": calendar.id, "summary": calendar.summary,
                "description": calendar.description, "timeZone": calendar.time_zone}

    @router.get("/calendars/{calendar_id}/events", summary="events.list")
    async def list_events(calendar_id: str, request: Request) -> dict[str, Any]:
        query = EventQuery.from_params(request.query_params)
        calendar = store().calendar(calendar_id)
        every = store().events(calendar_id)
        items, next_token = query.page(every)
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{max((e.version for e in every), default=0)}"',
            "summary": calendar.id,
            "description": calendar.description,
            "updated": format_utc(max((e.updated for e in every), default=service.now())),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": [e.to_json() for e in items],
        }
        if next_token:
            body["nextPageToken"] = next_token
        return body

    @router.post("/calendars/{calendar_id}/events", summary="events.insert")
    async def insert_event(calendar_id: str, request: Request) -> Response:
        body = await _json_body(request)
        client_id = body.get("id") if isinstance(body, dict) else None

        def change() -> tuple[int, Event]:
            calendar = store().calendar(calendar_id)
            event_id = validate_event_id(client_id) if client_id is not None else None
            fields = parse_event_body(body, calendar.time_zone, insert=True)
            return 200, store().insert(calendar_id, fields, event_id)

        return await write(request, body, "event.insert", change, client_key=client_id)

    @router.get("/calendars/{calendar_id}/events/{event_id}", summary="events.get")
    async def get_event(calendar_id: str, event_id: str, request: Request) -> Response:
        event = store().event(calendar_id, event_id)
        if request.headers.get("if-none-match") == event.etag:
            return Response(status_code=304, headers={"etag": event.etag})
        return _render(_event_response(200, event))

    @router.patch("/calendars/{calendar_id}/events/{event_id}", summary="events.patch")
    async def patch_event(calendar_id: str, event_id: str, request: Request) -> Response:
        body = await _json_body(request)

        def change() -> tuple[int, Event]:
            event = store().event(calendar_id, event_id)
            _check_if_match(request, event)
            fields = parse_event_body(body, store().calendar(calendar_id).time_zone, insert=False)
            return 200, store().patch(event, fields)

        return await write(request, body, "event.patch", change)

    @router.delete("/calendars/{calendar_id}/events/{event_id}", summary="events.delete")
    async def delete_event(calendar_id: str, event_id: str, request: Request) -> Response:
        def change() -> tuple[int, Event]:
            event = store().event(calendar_id, event_id)
            _check_if_match(request, event)
            return 204, store().cancel(event)

        return await write(request, None, "event.delete", change)

    @router.post("/freeBusy", summary="freebusy.query")
    async def query_free_busy(request: Request) -> dict[str, Any]:
        return free_busy(store(), await _json_body(request))

    return router
