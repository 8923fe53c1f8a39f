"""Reading an event resource from a request body, refusing bad fields the way Google does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mocks.calendar._times import EventTime, parse_event_time
from mocks.calendar.errors import GoogleError

__all__ = ["EventFields", "check_time_range", "parse_event_body", "validate_event_id"]

_EVENT_ID = re.compile(r"[0-9a-v]{5,1024}")
_STATUSES = ("confirmed", "tentative", "cancelled")
_TRANSPARENCIES = ("opaque", "transparent")


@dataclass(frozen=True, slots=True)
class EventFields:
    """Only the fields the body set; ``None`` means "leave as it is" for a patch."""

    summary: str | None = None
    description: str | None = None
    location: str | None = None
    start: EventTime | None = None
    end: EventTime | None = None
    attendees: list[dict[str, Any]] | None = None
    status: str | None = None
    transparency: str | None = None


def validate_event_id(event_id: Any) -> str:
    # Google lets clients choose ids (that is how an insert is made idempotent), in base32hex.
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise GoogleError.invalid("Invalid resource id value.", "id")
    return event_id


def parse_event_body(body: Any, calendar_zone: str, *, insert: bool) -> EventFields:
    if not isinstance(body, dict):
        raise GoogleError(400, "parseError", "Parse Error")
    # An insert needs both ends; a patch reads only the ends it carries.
    start, end = (
        parse_event_time(body.get(name), name, calendar_zone) if insert or name in body else None
        for name in ("start", "end")
    )
    return EventFields(
        summary=_text(body, "summary"),
        description=_text(body, "description"),
        location=_text(body, "location"),
        start=start,
        end=end,
        attendees=_attendees(body.get("attendees")) if "attendees" in body else None,
        status=_choice(body, "status", _STATUSES),
        transparency=_choice(body, "transparency", _TRANSPARENCIES),
    )


def check_time_range(start: EventTime, end: EventTime) -> None:
    if end.instant <= start.instant:
        raise GoogleError(
            400, "timeRangeEmpty", "The specified time range is empty.", location="end"
        )


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise GoogleError.invalid(f"Invalid value for {name}.", name)
    return value


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise GoogleError.invalid(f"Invalid value for {name}: one of {', '.join(allowed)}.", name)
    return str(value)


def _attendees(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise GoogleError.invalid("Invalid attendees list.", "attendees")
    cleaned = []
    for index, item in enumerate(raw):
        email = item.get("email") if isinstance(item, dict) else None
        if not email:
            raise GoogleError.required("Missing attendee email.", f"attendees[{index}].email")
        if not isinstance(email, str) or "@" not in email:
            raise GoogleError.invalid("Invalid attendee email.", f"attendees[{index}].email")
        entry: dict[str, Any] = {"email": email, "responseStatus": "needsAction"}
        for key in ("displayName", "optional", "comment"):
            if key in item:
                entry[key] = item[key]
        cleaned.append(entry)
    return cleaned
