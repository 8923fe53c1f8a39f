"""The advisors' booking calendars, speaking Google Calendar API v3."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict

from mocks.calendar._seed import ADVISOR_ZONE
from mocks.calendar.errors import google_error_body
from mocks.calendar.routes import build_router
from mocks.calendar.store import CalendarStore
from mocks.platform.control import require_token
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["CalendarService"]

_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
_SEEDED_ATTENDEES = 200  # customers who may appear on seeded appointments



class ClockPin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: AwareDatetime | None = None


class CalendarService(MockService):
    name = "calendar"
    title = "Calendar"
    vendor = "Google Calendar API v3"
    summary = (
        "Advisor booking calendars: events.list/insert/get/patch/delete and freeBusy.query "
        "under /calendar/calendar/v3. Overlapping bookings are refused with 409 conflict."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        # Wall-clock time (ctx.clock is monotonic): stamps events and anchors the seed.
        self._wall_clock: Callable[[], datetime] = ctx.now
        self.now = self._wall_clock
        self.store = self._seeded_store()

    def _seeded_store(self) -> CalendarStore:
        first_day = self.now().astimezone(ZoneInfo(ADVISOR_ZONE)).date()
        attendees = [
            (f"{c.first_name} {c.last_name}", c.email)
            for c in self.ctx.dataset.customers[:_SEEDED_ATTENDEES]
            if c.email
        ]
        return CalendarStore(self.ctx.settings.seed, first_day, attendees, lambda: self.now())

    def _restart(self) -> None:
        super().reset()
        self.store = self._seeded_store()

    def reset(self) -> None:
        self.now = self._wall_clock
        self._restart()

    def pin_clock(self, now: datetime | None) -> None:
        """Freeze "now" (or thaw it with None) and reseed, for reproducible demos and tests."""
        self.now = self._wall_clock if now is None else (lambda: now)
        self._restart()

    def router(self) -> APIRouter:
        return build_router(self)

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expected = self.ctx.settings.credentials.google_access_token
        if scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), expected):
            return None
        return AuthFailure(401, "unauthorized", _UNAUTHENTICATED)

    def error_body(self, status: int, reason: str, message: str) -> Any:
        if reason == "unauthorized":
            return google_error_body(
                status, "authError", _UNAUTHENTICATED, detail="Invalid Credentials",
                location="Authorization", location_type="header",
            )
        if reason == "rate_limited":
            return google_error_body(status, "rateLimitExceeded", "Rate Limit Exceeded",
                                     domain="usageLimits")
        return google_error_body(status, "backendError", message)

    def inspection_router(self) -> APIRouter:
        router = APIRouter(tags=["calendar"])
        guarded = [Depends(require_token(self.ctx.settings.chaos_token))]

        @router.get("/clock", summary="The calendar's notion of now, and the first seeded day")
        def clock() -> dict[str, Any]:
            return {
                "now": self.now().isoformat(),
                "pinned": self.now is not self._wall_clock,
                "first_day": self.store.first_day.isoformat(),
            }

        @router.put("/clock", dependencies=guarded, summary="Pin now (null unpins) and reseed")
        def pin(body: ClockPin) -> dict[str, Any]:
            self.pin_clock(body.now)
            return clock()

        return router
