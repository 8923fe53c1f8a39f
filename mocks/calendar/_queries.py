"""Read-side query parameters of ``events.list`` and the body of ``freeBusy.query``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mocks.calendar._times import format_utc, parse_rfc3339
from mocks.calendar.errors import GoogleError
from mocks.calendar.models import Event
from mocks.calendar.store import CalendarStore

__all__ = ["EventQuery", "free_busy", "page_token"]

_DEFAULT_PAGE, _MAX_PAGE = 250, 2500
_MAX_FREEBUSY_CALENDARS = 50


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset_of(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = text.partition(":")
        if label != "offset" or not (number.isascii() and number.isdigit()) or len(number) > 9:
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise GoogleError.bad_parameter("pageToken", "not a page token") from exc


@dataclass(frozen=True, slots=True)
class EventQuery:
    time_min: datetime | None
    time_max: datetime | None
    text: str | None
    max_results: int
    offset: int
    order_by: str | None
    show_deleted: bool

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EventQuery:
        time_min = _time_param(params, "timeMin")
        time_max = _time_param(params, "timeMax")
        if time_min and time_max and time_max <= time_min:
            raise GoogleError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                location="timeMax",
                location_type="parameter",
            )
        raw_max = params.get("maxResults")
        max_results = _DEFAULT_PAGE
        if raw_max is not None:
            # ASCII digits only: isdigit() also takes "²", which int() refuses.
            significant = raw_max.lstrip("0")
            if not (raw_max.isascii() and raw_max.isdigit()) or not significant:
                raise GoogleError.bad_parameter("maxResults", "must be a positive integer")
            # Google caps the page, it doesn't refuse, however many digits the count has.
            max_results = _MAX_PAGE if len(significant) > 9 else min(int(significant), _MAX_PAGE)
        order_by = params.get("orderBy")
        if order_by not in (None, "startTime", "updated"):
            raise GoogleError.bad_parameter("orderBy", "one of startTime, updated")
        if order_by == "startTime" and params.get("singleEvents", "").lower() != "true":
            raise GoogleError(
                400,
                "badRequest",
                "The requested ordering is not available for the particular query.",
            )
        token = params.get("pageToken")
        return cls(
            time_min=time_min,
            time_max=time_max,
            text=params.get("q") or None,
            max_results=max_results,
            offset=_offset_of(token) if token else 0,
            order_by=order_by,
            show_deleted=params.get("showDeleted", "").lower() == "true",
        )

    def page(self, events: list[Event]) -> tuple[list[Event], str | None]:
        chosen = [e for e in events if self._wants(e)]
        if self.order_by == "updated":
            chosen.sort(key=lambda e: (e.updated, e.id))
        window = chosen[self.offset : self.offset + self.max_results]
        more = self.offset + self.max_results < len(chosen)
        return window, page_token(self.offset + self.max_results) if more else None

    def _wants(self, event: Event) -> bool:
        if event.status == "cancelled" and not self.show_deleted:
            return False
        if self.time_min is not None and event.end.instant <= self.time_min:
            return False
        if self.time_max is not None and event.start.instant >= self.time_max:
            return False
        return self.text is None or event.matches(self.text)


def free_busy(store: CalendarStore, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GoogleError(400, "parseError", "Parse Error")
    bounds = []
    for name in ("timeMin", "timeMax"):
        value = body.get(name)
        if not value:
            raise GoogleError.required(f"Missing {name} parameter.", name)
        bounds.append(parse_rfc3339(str(value), name))
    start, end = bounds
    if end <= start:
        raise GoogleError(
            400, "timeRangeEmpty", "The specified time range is empty.", location="timeMax"
        )
    items = body.get("items") or []
    if not isinstance(items, list):
        raise GoogleError.invalid("Invalid items list.", "items")
    if len(items) > _MAX_FREEBUSY_CALENDARS:
        raise GoogleError(
            400, "tooManyCalendarsRequested", "Too many calendars requested.", location="items"
        )
    calendars: dict[str, Any] = {}
    for index, item in enumerate(items):
        calendar_id = item.get("id") if isinstance(item, dict) else None
        if not calendar_id or not isinstance(calendar_id, str):
            raise GoogleError.required("Missing calendar id.", f"items[{index}].id")
        try:
            spans = store.busy(str(calendar_id), start, end)
        except GoogleError:
            # Like Google: one unknown calendar does not fail the whole query.
            not_found = [{"domain": "global", "reason": "notFound"}]
            calendars[calendar_id] = {"errors": not_found, "busy": []}
            continue
        calendars[calendar_id] = {
            "busy": [{"start": _seconds(s), "end": _seconds(e)} for s, e in spans]
        }
    return {
        "kind": "calendar#freeBusy",
        "timeMin": _seconds(start),
        "timeMax": _seconds(end),
        "calendars": calendars,
    }


def _seconds(instant: datetime) -> str:
    return format_utc(instant)[:-5] + "Z"


def _time_param(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    return parse_rfc3339(value, name, parameter=True) if value else None
