"""Calendars and events, and how Google serialises them (``calendar#event``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mocks.calendar._times import EventTime, format_utc

__all__ = ["Calendar", "Event"]


@dataclass(frozen=True, slots=True)
class Calendar:
    id: str  # an email address, as Google's calendar ids are
    summary: str
    time_zone: str
    description: str = ""

    def to_list_entry(self, primary: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "id": self.id,
            "summary": self.summary,
            "description": self.description,
            "timeZone": self.time_zone,
            "accessRole": "owner",
        }
        if primary:
            entry["primary"] = True
        return entry


@dataclass(slots=True)
class Event:
    id: str
    calendar_id: str
    summary: str
    start: EventTime
    end: EventTime
    created: datetime
    updated: datetime
    version: int  # feeds the ETag; bumped on every change
    description: str | None = None
    location: str | None = None
    attendees: list[dict[str, Any]] = field(default_factory=list)
    status: str = "confirmed"  # confirmed | tentative | cancelled
    transparency: str = "opaque"  # "transparent" events never block time
    sequence: int = 0  # Google bumps it when the time changes

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def blocks_time(self) -> bool:
        return self.status != "cancelled" and self.transparency != "transparent"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start.instant < end and start < self.end.instant

    def matches(self, text: str) -> bool:
        needle = text.lower()
        haystack = [self.summary, self.description or "", self.location or ""]
        for attendee in self.attendees:
            haystack.extend([attendee.get("email", ""), attendee.get("displayName", "")])
        return any(needle in part.lower() for part in haystack)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": self.etag,
            "id": self.id,
            "status": self.status,
            "htmlLink": f"https://www.google.com/calendar/event?eid={self.id}",
            "created": format_utc(self.created),
            "updated": format_utc(self.updated),
            "summary": self.summary,
            "creator": {"email": self.calendar_id},
            "organizer": {"email": self.calendar_id, "self": True},
            "start": self.start.to_json(),
            "end": self.end.to_json(),
            "iCalUID": f"{self.id}@google.com",
            "sequence": self.sequence,
            "reminders": {"useDefault": True},
            "eventType": "default",
        }
        if self.description is not None:
            body["description"] = self.description
        if self.location is not None:
            body["location"] = self.location
        if self.attendees:
            body["attendees"] = [dict(a) for a in self.attendees]
        if self.transparency == "transparent":
            body["transparency"] = "transparent"
        return body
