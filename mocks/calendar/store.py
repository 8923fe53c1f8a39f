"""The calendars' state: events per calendar, the booking rule, and free/busy.

Booking rule (stricter than Google): Google Calendar happily stores overlapping events; a
booking system does not. An insert, or a patch that moves an event, onto time already held
by a non-cancelled, non-transparent event of the same calendar is refused with a 409
``conflict``. That is the race a voice agent must handle when two callers want one slot.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime

from mocks.calendar._payload import EventFields, check_time_range
from mocks.calendar._seed import TEAM_CALENDAR_ID, new_event_id, seed_calendars, seed_events
from mocks.calendar.errors import GoogleError
from mocks.calendar.models import Calendar, Event

__all__ = ["CalendarStore"]

_FIRST_VERSION = 3_180_000_000_000_000  # ETags that look like Google's microsecond stamps


class CalendarStore:
    def __init__(
        self,
        seed: int,
        first_day: date,
        attendees: Sequence[tuple[str, str]],
        now: Callable[[], datetime],
    ) -> None:
        self._now = now
        self.first_day = first_day
        self._version = _FIRST_VERSION
        self._ids = random.Random(f"calendar-ids:{seed}")
        self.calendars = {c.id: c for c in seed_calendars()}
        self.primary_id = TEAM_CALENDAR_ID
        self._events: dict[str, dict[str, Event]] = {c: {} for c in self.calendars}
        for event in seed_events(seed, first_day, attendees, self._next_version):
            self._events[event.calendar_id][event.id] = event

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def calendar(self, calendar_id: str) -> Calendar:
        found = self.calendars.get(self.primary_id if calendar_id == "primary" else calendar_id)
        if found is None:
            raise GoogleError.not_found()
        return found

    def events(self, calendar_id: str) -> list[Event]:
        calendar = self.calendar(calendar_id)
        return sorted(self._events[calendar.id].values(), key=lambda e: (e.start.instant, e.id))

    def event(self, calendar_id: str, event_id: str) -> Event:
        found = self._events[self.calendar(calendar_id).id].get(event_id)
        if found is None:
            raise GoogleError.not_found()
        return found

    def insert(self, calendar_id: str, fields: EventFields, event_id: str | None) -> Event:
        calendar = self.calendar(calendar_id)
        assert fields.start is not None and fields.end is not None
        check_time_range(fields.start, fields.end)
        held = self._events[calendar.id]
        if event_id is not None and event_id in held:
            # Google keeps even a cancelled event's id: a retried insert is told it exists.
            raise GoogleError(409, "duplicate", "The requested identifier already exists.")
        now = self._now()
        event = Event(
            id=event_id or new_event_id(self._ids),
            calendar_id=calendar.id,
            summary=fields.summary or "",
            start=fields.start,
            end=fields.end,
            created=now,
            updated=now,
            version=self._next_version(),
            description=fields.description,
            location=fields.location,
            attendees=fields.attendees or [],
            status=fields.status or "confirmed",
            transparency=fields.transparency or "opaque",
        )
        self._refuse_overlap(event)
        held[event.id] = event
        return event

    def patch(self, event: Event, fields: EventFields) -> Event:
        start = fields.start or event.start
        end = fields.end or event.end
        check_time_range(start, end)
        moved = start != event.start or end != event.end
        changed = replace(
            event,
            summary=event.summary if fields.summary is None else fields.summary,
            description=event.description if fields.description is None else fields.description,
            location=event.location if fields.location is None else fields.location,
            start=start,
            end=end,
            attendees=event.attendees if fields.attendees is None else fields.attendees,
            status=fields.status or event.status,
            transparency=fields.transparency or event.transparency,
        )
        if changed.blocks_time and (moved or not event.blocks_time):
            self._refuse_overlap(changed)
        changed.sequence = event.sequence + (1 if moved else 0)
        changed.updated = self._now()
        changed.version = self._next_version()
        self._events[event.calendar_id][event.id] = changed
        return changed

    def cancel(self, event: Event) -> Event:
        if event.status == "cancelled":
            raise GoogleError(410, "deleted", "Resource has been deleted")
        event.status = "cancelled"
        event.updated = self._now()
        event.version = self._next_version()
        return event

    def busy(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Busy intervals in [start, end), clipped to it and merged where they touch."""
        spans = sorted(
            (max(e.start.instant, start), min(e.end.instant, end))
            for e in self.events(calendar_id)
            if e.blocks_time and e.overlaps(start, end)
        )
        merged: list[tuple[datetime, datetime]] = []
        for span_start, span_end in spans:
            if merged and span_start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
            else:
                merged.append((span_start, span_end))
        return merged

    def _refuse_overlap(self, candidate: Event) -> None:
        if not candidate.blocks_time:
            return
        for other in self._events[candidate.calendar_id].values():
            if (
                other.id != candidate.id
                and other.blocks_time
                and other.overlaps(candidate.start.instant, candidate.end.instant)
            ):
                raise GoogleError(
                    409,
                    "conflict",
                    "The requested time slot is already booked",
                    domain="calendar",
                )
