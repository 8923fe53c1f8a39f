"""Google Calendar API v3: book one appointment (events.insert)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.settings import VendorCredentials
from integration.transport import Transport

__all__ = ["GoogleCalendarClient", "rfc3339"]


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
            self.http, "insert_event", attempt, "POST", path, json=event,
            headers={**self._auth, "Idempotency-Key": key},
        )  # fmt: skip
        if not isinstance(stored, dict) or not stored.get("id"):
            raise self.http.malformed("insert_event", attempt, "event has no id")
        return stored
