"""The advisors' booking calendars, speaking Google Calendar API v3."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mocks.calendar._payload import parse_event_body, validate_event_id
from mocks.calendar._queries import EventQuery, free_busy
from mocks.calendar._seed import ADVISOR_ZONE
from mocks.calendar._times import format_utc
from mocks.calendar.errors import GoogleError, google_error_body
from mocks.calendar.models import Event
from mocks.calendar.store import CalendarStore
from mocks.platform.credentials import same_secret
from mocks.platform.idempotency import IdempotencyConflict, IdempotencyMismatch, StoredResponse
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["CalendarService", "event_response"]

_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
# The gateway's refusals of a request body, in Google's reasons.
_REQUEST_REASONS = {"invalid_request": "invalid", "payload_too_large": "uploadTooLarge"}
# A path no route serves, or a method it does not take (Google's global reasons).
_ROUTING_REASONS = {"not_found": "notFound", "method_not_allowed": "httpMethodNotAllowed"}
_SEEDED_ATTENDEES = 200  # customers who may appear on seeded appointments

Change = Callable[[], tuple[int, Event]]  # applies one write: (status, the event)


def event_response(status: int, event: Event) -> StoredResponse:
    return StoredResponse(status, event.to_json(), (("etag", event.etag),))


class CalendarService(MockService):
    name = "calendar"
    title = "Calendar"
    vendor = "Google Calendar API v3"
    summary = (
        "Advisor booking calendars: events.list/insert/get/patch/delete and freeBusy.query "
        "under /calendar/calendar/v3. Overlapping bookings are refused with 409 conflict."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        # Wall-clock time (ctx.clock is monotonic): stamps events and anchors the seed.
        self._wall_clock: Callable[[], datetime] = ctx.now
        self.now = self._wall_clock
        self.store = self._seeded_store()

    def _seeded_store(self) -> CalendarStore:
        first_day = self.now().astimezone(ZoneInfo(ADVISOR_ZONE)).date()
        attendees = [
            (f"{c.first_name} {c.last_name}", c.email)
            for c in self.ctx.dataset.customers[:_SEEDED_ATTENDEES]
            if c.email
        ]
        return CalendarStore(self.ctx.settings.seed, first_day, attendees, lambda: self.now())

    def _restart(self) -> None:
        super().reset()
        self.store = self._seeded_store()

    def reset(self) -> None:
        self.now = self._wall_clock
        self._restart()

    @property
    def clock_pinned(self) -> bool:
        return self.now is not self._wall_clock

    def pin_clock(self, now: datetime | None) -> None:
        """Freeze "now" (or thaw it with None) and reseed, for reproducible demos and tests."""
        self.now = self._wall_clock if now is None else (lambda: now)
        self._restart()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expected = self.ctx.settings.credentials.google_access_token
        if scheme.lower() == "bearer" and same_secret(token.strip(), expected):
            return None
        return AuthFailure(401, "unauthorized", _UNAUTHENTICATED)

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        if reason == "unauthorized":
            return google_error_body(
                status,
                "authError",
                _UNAUTHENTICATED,
                detail="Invalid Credentials",
                location="Authorization",
                location_type="header",
            )
        if reason == "rate_limited":
            return google_error_body(
                status, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits"
            )
        if reason in _REQUEST_REASONS:
            where = "body" if field else None
            return google_error_body(
                status, _REQUEST_REASONS[reason], message, location=field, location_type=where
            )
        return google_error_body(status, _ROUTING_REASONS.get(reason, "backendError"), message)

    # -- reads (the store is looked up on every call: reset() swaps it) -----------------

    def calendar_list(self) -> dict[str, Any]:
        store = self.store
        entries = [c.to_list_entry(c.id == store.primary_id) for c in store.calendars.values()]
        return {"kind": "calendar#calendarList", "items": entries}

    def calendar_json(self, calendar_id: str) -> dict[str, Any]:
        calendar = self.store.calendar(calendar_id)
        return {
            "kind": "calendar#calendar",
            "id": calendar.id,
            "summary": calendar.summary,
            "description": calendar.description,
            "timeZone": calendar.time_zone,
        }

    def list_events(self, calendar_id: str, query: EventQuery) -> dict[str, Any]:
        calendar = self.store.calendar(calendar_id)
        every = self.store.events(calendar_id)
        items, next_token = query.page(every)
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{max((e.version for e in every), default=0)}"',
            "summary": calendar.id,
            "description": calendar.description,
            "updated": format_utc(max((e.updated for e in every), default=self.now())),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": [e.to_json() for e in items],
        }
        if next_token:
            body["nextPageToken"] = next_token
        return body

    def free_busy(self, body: Any) -> dict[str, Any]:
        return free_busy(self.store, body)

    # -- writes: once per Idempotency-Key, each applied one recorded in the ledger ------

    async def insert_event(
        self, calendar_id: str, body: Any, key: str | None, request_print: str
    ) -> StoredResponse:
        client_id = body.get("id") if isinstance(body, dict) else None

        def change() -> tuple[int, Event]:
            calendar = self.store.calendar(calendar_id)
            event_id = validate_event_id(client_id) if client_id is not None else None
            fields = parse_event_body(body, calendar.time_zone, insert=True)
            return 200, self.store.insert(calendar_id, fields, event_id)

        return await self._write("event.insert", change, key, request_print, client_id)

    async def patch_event(
        self,
        calendar_id: str,
        event_id: str,
        body: Any,
        if_match: str | None,
        key: str | None,
        request_print: str,
    ) -> StoredResponse:
        def change() -> tuple[int, Event]:
            event = self.store.event(calendar_id, event_id)
            _check_if_match(if_match, event)
            fields = parse_event_body(
                body, self.store.calendar(calendar_id).time_zone, insert=False
            )
            return 200, self.store.patch(event, fields)

        return await self._write("event.patch", change, key, request_print)

    async def delete_event(
        self,
        calendar_id: str,
        event_id: str,
        if_match: str | None,
        key: str | None,
        request_print: str,
    ) -> StoredResponse:
        def change() -> tuple[int, Event]:
            event = self.store.event(calendar_id, event_id)
            _check_if_match(if_match, event)
            return 204, self.store.cancel(event)

        return await self._write("event.delete", change, key, request_print)

    async def _write(
        self,
        operation: str,
        change: Change,
        key: str | None,
        request_print: str,
        client_key: str | None = None,
    ) -> StoredResponse:
        async def apply() -> StoredResponse:
            try:
                status, event = change()
            except GoogleError as exc:
                return StoredResponse(exc.status, exc.body)
            self.ledger.record(
                operation,
                event.id,
                key or client_key,
                calendar=event.calendar_id,
                status=event.status,
                start=format_utc(event.start.instant),
                end=format_utc(event.end.instant),
                summary=event.summary,
            )
            if status == 204:
                return StoredResponse(204, None)
            return event_response(status, event)

        try:
            stored, _ = await self.idempotency.run(key, request_print, apply)
        except IdempotencyMismatch as exc:
            raise GoogleError(
                400,
                "invalid",
                "Idempotency-Key was used with a different request.",
                location="Idempotency-Key",
                location_type="header",
            ) from exc
        except IdempotencyConflict as exc:
            raise GoogleError(
                409,
                "idempotencyKeyInUse",
                "A request with this Idempotency-Key is in progress.",
                location="Idempotency-Key",
                location_type="header",
            ) from exc
        return stored


def _check_if_match(if_match: str | None, event: Event) -> None:
    if if_match is not None and if_match not in ("*", event.etag):
        raise GoogleError(
            412,
            "conditionNotMet",
            "Precondition Failed",
            location="If-Match",
            location_type="header",
        )
