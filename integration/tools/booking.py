"""book_appointment: see whether the time is free, then book it through the outbox.

1. Free/busy for the requested time and the days after it (a read: cancellable, under the
   turn's deadline). Taken → failed, with the next free time offered. Unreadable → go on:
   the calendar itself refuses a double booking, and the outbox keeps the request.
2. The booking and a CRM task about it (which waits for the booking) become effects of
   the call, committed before anything is promised.
3. Wait for the booking's verdict within what is left of the turn: delivered → booked;
   refused as taken (someone got there first) → failed with another time; still on its
   way → degraded, and the caller hears that it is not confirmed yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from integration.clients.calendar import BusySpan
from integration.errors import SourceError
from integration.outbox.model import EffectRow, EffectSpec
from integration.outbox.outcome import is_email
from integration.policies.executor import Attempt
from integration.tools._say import spoken_time
from integration.tools._verdict import source_of
from integration.tools.admitted import Booking
from integration.tools.args import BookAppointmentArgs
from integration.tools.context import ToolContext
from integration.tools.result import FieldSource, Outcome

__all__ = ["book_appointment", "next_free"]

_SEARCH = timedelta(days=3)  # how far past the requested time to look for another one
_STEP = timedelta(minutes=30)
_OPENS, _CLOSES = 9, 17  # offered times fall in these hours, in the requested time's offset


async def book_appointment(ctx: ToolContext, args: BookAppointmentArgs) -> Outcome:
    start = args.start
    end = start + timedelta(minutes=args.duration_minutes)
    now = ctx.now()
    when = spoken_time(start, now)
    calendar = ctx.deps.calendar
    requested = {"start": start.isoformat(), "end": end.isoformat(), "topic": args.topic}

    async def free_busy(attempt: Attempt) -> list[BusySpan]:
        return await calendar.free_busy(
            attempt, calendar_id=args.calendar_id, time_min=start, time_max=start + _SEARCH
        )

    busy: list[BusySpan] | None
    try:
        busy = await ctx.read("calendar", "free_busy", free_busy)
        slot = FieldSource(status="live", system="calendar")
    except SourceError as exc:
        busy, slot = None, FieldSource(status="missing", system="calendar", reason=exc.reason)
    if busy is not None and _overlaps(busy, start, end):
        return _taken(ctx, args, busy, now, {"slot": slot}, requested, just_now=False)

    booking = EffectSpec(
        ctx.name("booking"),
        "calendar",
        "calendar.insert_event",
        {
            "calendar_id": args.calendar_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "summary": args.topic,
            "attendee_email": _attendee(ctx, args),
        },
    )
    task = EffectSpec(
        ctx.name("booking_task"),
        "crm",
        "crm.create_task",
        {"fields": _task(ctx, args, start)},
        depends_on=(booking.name,),
    )
    rows = await ctx.write([booking, task])
    row = await ctx.settle(rows[0])
    provenance = {"slot": slot, "booking": source_of(row)}
    if row.status == "delivered":
        _remember(ctx, booking.name, start, when)
        event = row.result or {}
        data = {**requested, "booked": True, "event_id": event.get("id")}
        return Outcome("ok", f"You're booked for {when}.", data, provenance)
    if row.status == "dead":
        if _slot_was_taken(row):
            taken = [*(busy or []), (start, end)]
            return _taken(ctx, args, taken, now, provenance, requested, just_now=True)
        return Outcome(
            "failed",
            "I wasn't able to book that just now. I can have someone call you back to "
            "arrange a time.",
            {**requested, "booked": False},
            provenance,
        )
    _remember(ctx, booking.name, start, when)
    return Outcome(
        "degraded",
        f"I've put in the booking for {when}. It isn't confirmed yet, so we'll let you know "
        "as soon as it is.",
        {**requested, "booked": False, "queued": True},
        provenance,
    )


def next_free(
    busy: list[BusySpan], start: datetime, length: timedelta, until: datetime
) -> datetime | None:
    """The first time after ``start``, on the half hour grid from it, within opening hours
    (in ``start``'s offset), where ``length`` fits between the busy spans."""
    candidate = start + _STEP
    while candidate + length <= until:
        closes = candidate.replace(hour=_CLOSES, minute=0, second=0, microsecond=0)
        in_hours = candidate.hour >= _OPENS and candidate + length <= closes
        if in_hours and not _overlaps(busy, candidate, candidate + length):
            return candidate
        candidate += _STEP
    return None


def _overlaps(busy: list[BusySpan], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def _taken(
    ctx: ToolContext,
    args: BookAppointmentArgs,
    busy: list[BusySpan],
    now: datetime,
    provenance: dict[str, FieldSource],
    requested: dict[str, Any],
    *,
    just_now: bool,
) -> Outcome:
    length = timedelta(minutes=args.duration_minutes)
    other = next_free(busy, args.start, length, args.start + _SEARCH)
    when = spoken_time(args.start, now)
    opening = (
        f"I'm sorry, {when} has just been taken."
        if just_now
        else (f"I'm sorry, {when} is already taken.")
    )
    data: dict[str, Any] = {**requested, "booked": False, "available": False}
    if other is None:
        data["alternative"] = None
        say = f"{opening} I can have someone call you to find another time."
    else:
        data["alternative"] = {"start": other.isoformat(), "end": (other + length).isoformat()}
        say = f"{opening} The next time I have is {spoken_time(other, now)}. Would that work?"
    return Outcome("failed", say, data, provenance)


def _slot_was_taken(row: EffectRow) -> bool:
    # The calendar answers a double booking with 409 conflict; other refusals (a bad
    # address, an unknown calendar) are not about the time.
    return row.dead_reason == "rejected" and "HTTP 409" in (row.last_error or "")


def _attendee(ctx: ToolContext, args: BookAppointmentArgs) -> str | None:
    if args.attendee_email is not None:
        return args.attendee_email
    email = ctx.contact.get("email")
    return email if isinstance(email, str) and is_email(email) else None


def _task(ctx: ToolContext, args: BookAppointmentArgs, start: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Subject": f"Appointment booked: {args.topic}"[:255],
        "Description": f"{args.topic} at {start.isoformat()} for {args.duration_minutes} "
        f"minutes, booked by the voice agent on call {ctx.call_id}.",
        "ActivityDate": start.date().isoformat(),
        "Status": "Not Started",
        "Priority": "Normal",
    }
    contact_id = ctx.contact.get("contact_id")
    if contact_id:
        fields["WhoId"] = contact_id
    return fields


def _remember(ctx: ToolContext, effect: str, start: datetime, when: str) -> None:
    """What a confirmation sent later in the call quotes (and waits for)."""
    ctx.remember_booking(Booking(effect=effect, start=start.isoformat(), when=when))
