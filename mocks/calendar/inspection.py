"""``/_mock/calendar/clock``: the calendar's notion of now, which a test may pin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict

from mocks.calendar.routes import Calendar
from mocks.platform.control import GUARDED

__all__ = ["ClockPin", "router"]


class ClockPin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: AwareDatetime | None = None


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
