"""Event times as Google writes them: ``{"dateTime", "timeZone"}`` or an all-day ``{"date"}``.

An ``EventTime`` keeps the instant (UTC, for overlap checks and free/busy) and the zone it
is shown in, so an event booked in New York time is echoed back in New York time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mocks.calendar.errors import GoogleError

__all__ = ["EventTime", "format_utc", "parse_event_time", "parse_rfc3339", "zone"]


_YEARS = (2, 9998)  # a day's margin on each side of what datetime holds, in any zone


def zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GoogleError.invalid(f"Invalid time zone definition for {field} time.", field) from exc


def format_utc(instant: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Google writes ``created`` and ``updated``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{instant.microsecond // 1000:03d}Z"
    )


def _utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC, or None when it is too near year 1 or 9999 to be shown in every
    time zone (an event stored there would break every later read of its calendar)."""
    try:
        instant = moment.astimezone(UTC)
    except OverflowError:
        return None
    return instant if _YEARS[0] <= instant.year <= _YEARS[1] else None


def parse_rfc3339(value: str, field: str, *, parameter: bool = False) -> datetime:
    """A timestamp with a mandatory offset (Google refuses ``timeMin`` without one)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    instant = _utc(parsed) if parsed is not None and parsed.tzinfo is not None else None
    if instant is None:
        expected = "must be an RFC3339 timestamp with a time zone offset"
        if parameter:
            raise GoogleError.bad_parameter(field, expected)
        raise GoogleError.invalid(f"Invalid {field} value: {expected}.", field)
    return instant


@dataclass(frozen=True, slots=True)
class EventTime:
    instant: datetime  # UTC
    time_zone: str
    all_day: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.all_day:
            return {"date": self.instant.astimezone(ZoneInfo(self.time_zone)).date().isoformat()}
        local = self.instant.astimezone(ZoneInfo(self.time_zone))
        return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": self.time_zone}


def parse_event_time(raw: Any, field: str, calendar_zone: str) -> EventTime:
    """``field`` is ``start`` or ``end``; missing pieces are named the way Google names them."""
    if raw is None:
        raise GoogleError.required(f"Missing {field} time.", field)
    if not isinstance(raw, dict):
        raise GoogleError.invalid(f"Invalid {field} time.", field)
    zone_name = raw.get("timeZone") or calendar_zone
    tz = zone(str(zone_name), field)
    if raw.get("dateTime"):
        try:
            parsed = datetime.fromisoformat(str(raw["dateTime"]))
        except ValueError as exc:
            raise GoogleError.invalid(f"Invalid {field} time.", f"{field}.dateTime") from exc
        if parsed.tzinfo is None:
            if not raw.get("timeZone"):
                raise GoogleError.required(
                    f"Missing time zone definition for {field} time.", f"{field}.timeZone"
                )
            parsed = parsed.replace(tzinfo=tz)
        instant = _utc(parsed)
        if instant is None:
            raise GoogleError.invalid(f"Invalid {field} time.", f"{field}.dateTime")
        return EventTime(instant, str(zone_name))
    if raw.get("date"):
        try:
            day = date.fromisoformat(str(raw["date"]))
        except ValueError as exc:
            raise GoogleError.invalid(f"Invalid {field} time.", f"{field}.date") from exc
        midnight = _utc(datetime.combine(day, time(), tzinfo=tz))
        if midnight is None:
            raise GoogleError.invalid(f"Invalid {field} time.", f"{field}.date")
        return EventTime(midnight, str(zone_name), all_day=True)
    raise GoogleError.required(f"Missing {field} time.", field)
