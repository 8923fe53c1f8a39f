"""``/_mock/calendar/clock``: the calendar's notion of now, which a test may pin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from mocks.calendar.routes import Calendar
from mocks.platform.control import GUARDED

__all__ = ["ClockPin", "router"]


class ClockPin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: AwareDatetime | None = None

    @field_validator("now")
    @classmethod
    def _seedable(cls, now: AwareDatetime | None) -> AwareDatetime | None:
        # The seed spreads appointments over the weeks around "now": they must stay
        # inside the years a datetime can hold.
        if now is not None and not 1900 <= now.year <= 9000:
            raise ValueError("must be between the years 1900 and 9000")
        return now


router = APIRouter(tags=["calendar"])


@router.get("/clock", summary="The calendar's notion of now, and the first seeded day")
def clock(calendar: Calendar) -> dict[str, Any]:
    return {
        "now": calendar.now().isoformat(),
        "pinned": calendar.clock_pinned,
        "first_day": calendar.store.first_day.isoformat(),
    }


@router.put("/clock", dependencies=GUARDED, summary="Pin now (null unpins) and reseed")
def pin(body: ClockPin, calendar: Calendar) -> dict[str, Any]:
    calendar.pin_clock(body.now)
    return clock(calendar)
