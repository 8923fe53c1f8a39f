"""The advisors' calendars and the appointments already on them.

The pattern is a pure function of (seed, first day): the same seed gives the same bookings
at the same local times relative to the first day. The first day is the current day (from
the service's injectable wall clock) so an agent looking for "a slot this week" meets
realistic contention, however far the real date is from the dataset's reference date.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mocks.calendar._times import EventTime
from mocks.calendar.models import Calendar, Event

__all__ = [
    "ADVISOR_ZONE",
    "SEED_DAYS",
    "TEAM_CALENDAR_ID",
    "new_event_id",
    "seed_calendars",
    "seed_events",
]

ADVISOR_ZONE = "America/New_York"
TEAM_CALENDAR_ID = "advisors@switchboard.example"
SEED_DAYS = 14
_ADVISORS = (
    ("alex.rivera", "Alex Rivera"),
    ("priya.shah", "Priya Shah"),
    ("marcus.chen", "Marcus Chen"),
    ("dana.okafor", "Dana Okafor"),
)
_TOPICS = (
    "Loan consultation",
    "Mortgage pre-approval review",
    "Account review",
    "Refinance options call",
    "Internal: pipeline review",
)
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"  # base32hex, as Google's event ids
_OPENING, _SLOTS = 9, 16  # half-hour slots from 09:00 to 17:00 local


def new_event_id(rng: random.Random) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(26))


def seed_calendars() -> tuple[Calendar, ...]:
    team = Calendar(TEAM_CALENDAR_ID, "Advisor bookings", ADVISOR_ZONE, "Shared booking calendar")
    people = tuple(
        Calendar(f"{user}@switchboard.example", name, ADVISOR_ZONE, "Advisor calendar")
        for user, name in _ADVISORS
    )
    return (team, *people)


def seed_events(
    seed: int,
    first_day: date,
    attendees: Sequence[tuple[str, str]],
    next_version: Callable[[], int],
) -> list[Event]:
    """``attendees`` are (display name, email) pairs of customers who may hold a booking."""
    rng = random.Random(f"calendar:{seed}")
    tz = ZoneInfo(ADVISOR_ZONE)
    created = datetime.combine(first_day, time(), tzinfo=UTC) - timedelta(days=7)
    events: list[Event] = []

    def add(
        calendar: Calendar,
        summary: str,
        day: date,
        minute: int,
        length: int,
        guests: list[dict[str, str]],
    ) -> None:
        start = datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=minute)
        end = start + timedelta(minutes=length)
        events.append(
            Event(
                id=new_event_id(rng),
                calendar_id=calendar.id,
                summary=summary,
                start=EventTime(start.astimezone(UTC), ADVISOR_ZONE),
                end=EventTime(end.astimezone(UTC), ADVISOR_ZONE),
                created=created,
                updated=created,
                version=next_version(),
                attendees=[{**g, "responseStatus": "accepted"} for g in guests],
            )
        )

    team, *advisors = seed_calendars()
    for offset in range(SEED_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        add(team, "Advisor stand-up", day, 8 * 60 + 45, 15, [])
        for advisor in advisors:
            taken: set[int] = set()
            for _ in range(rng.randint(2, 4)):
                slots = rng.choice((1, 2))
                first = rng.randrange(_SLOTS - slots + 1)
                wanted = set(range(first, first + slots))
                if wanted & taken:
                    continue
                taken |= wanted
                topic = rng.choice(_TOPICS)
                guests = [{"email": advisor.id, "displayName": advisor.summary}]
                if attendees and not topic.startswith("Internal"):
                    name, email = rng.choice(attendees)
                    guests.append({"email": email, "displayName": name})
                add(advisor, topic, day, _OPENING * 60 + first * 30, slots * 30, guests)
    return events
