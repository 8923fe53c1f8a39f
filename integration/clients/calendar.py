"""Google Calendar API v3: book one appointment (events.insert), and see which times are
taken before offering one (freebusy.query, a read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.errors import NotFound
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["BusySpan", "GoogleCalendarClient", "rfc3339"]

BusySpan = tuple[datetime, datetime]


def rfc3339(moment: datetime | str) -> str:
    """An aware RFC 3339 time; a time without an offset is taken as UTC, because Google
    refuses a dateTime that has neither an offset nor a timeZone."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


class GoogleCalendarClient:
    system = "calendar"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the root above ``/calendar/v3`` (the mocks: ``<mocks_url>/calendar``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._auth = {"Authorization": f"Bearer {credentials.google_access_token}"}

    async def insert_event(
        self,
        attempt: AttemptState,
        *,
        calendar_id: str,
        start: datetime | str,
        end: datetime | str,
        summary: str,
        attendee_email: str | None,
        key: str,
    ) -> dict[str, Any]:
        """The event Google stored (``id``, ``htmlLink``, ``start``...). A slot somebody
        else booked first answers 409 conflict: Rejected, as no retry can free it."""
        event: dict[str, Any] = {
            "summary": summary,
            "start": {"dateTime": rfc3339(start)},
            "end": {"dateTime": rfc3339(end)},
        }
        if attendee_email:
            event["attendees"] = [{"email": attendee_email}]
        path = f"/calendar/v3/calendars/{quote(calendar_id, safe='')}/events"
        stored = await send_write_json(
            self.http,
            "insert_event",
            attempt,
            "POST",
            path,
            json=event,
            headers={**self._auth, "Idempotency-Key": key},
        )
        if not isinstance(stored, dict) or not stored.get("id"):
            raise self.http.malformed("insert_event", attempt, "event has no id")
        return stored

    async def free_busy(
        self,
        attempt: AttemptState,
        *,
        calendar_id: str,
        time_min: datetime | str,
        time_max: datetime | str,
    ) -> list[BusySpan]:
        """The taken spans of one calendar within [time_min, time_max), as aware UTC
        datetimes in order. A calendar Google does not know raises NotFound (Google
        answers 200 with an error inside the calendar's entry)."""
        body = {
            "timeMin": rfc3339(time_min),
            "timeMax": rfc3339(time_max),
            "items": [{"id": calendar_id}],
        }
        answer = await self.http.send_json(
            "free_busy", attempt, "POST", "/calendar/v3/freeBusy", json=body, headers=self._auth
        )
        entry = answer.get("calendars", {}).get(calendar_id) if isinstance(answer, dict) else None
        if not isinstance(entry, dict):
            raise self.http.malformed("free_busy", attempt, "no entry for the calendar asked")
        if entry.get("errors"):
            raise NotFound(self.system, "free_busy", f"calendar {calendar_id!r}: {entry['errors']}")
        spans: list[BusySpan] = []
        for span in entry.get("busy") or []:
            try:
                spans.append((_utc(span["start"]), _utc(span["end"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise self.http.malformed("free_busy", attempt, f"busy span {span!r}") from exc
        return sorted(spans)


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a busy time without an offset")
    return moment.astimezone(UTC)
