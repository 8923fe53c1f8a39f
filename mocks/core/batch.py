"""The nightly batch window: while the core runs its end-of-day batch it refuses every
request with ``CL-SYS-0900`` (HTTP 503, ``Retry-After`` until the window ends).

The nightly schedule is a UTC time range (``"02:00-02:30"``, may wrap past midnight; empty
for none) read from ``MockSettings.core_batch_window`` and changeable at run time; a
window can also be forced to start now for some seconds, so tests and scenarios need not
wait for the night. Refusals are counted, so a scorecard can tell whether a client kept
calling while the window was open.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["BatchWindow", "Closed", "parse_schedule"]

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_DAY_S = 86_400


def parse_schedule(text: str) -> tuple[int, int] | None:
    """``"HH:MM-HH:MM"`` as (start, end) seconds after midnight UTC; ``""`` is no window.
    Raises ValueError naming the format (never the text)."""
    text = text.strip()
    if not text:
        return None
    match = _RANGE.match(text)
    if match is None:
        raise ValueError("a batch window is written HH:MM-HH:MM in UTC, or empty for none")
    hour1, min1, hour2, min2 = (int(part) for part in match.groups())
    start, end = hour1 * 3600 + min1 * 60, hour2 * 3600 + min2 * 60
    if start == end:
        raise ValueError("a batch window's start and end must differ")
    return start, end


@dataclass(frozen=True, slots=True)
class Closed:
    """The window is open (the service is closed): until when, and for how long still."""

    ends_at: datetime
    retry_after_s: int
    forced: bool


class BatchWindow:
    def __init__(
        self,
        schedule: tuple[int, int] | None,
        *,
        clock: Callable[[], float],
        now: Callable[[], datetime],
    ) -> None:
        self._configured = schedule
        self.schedule = schedule
        self._clock = clock
        self._now = now
        self._forced_until: float | None = None
        self.refused = 0
        self._lock = threading.Lock()

    def force(self, seconds: float) -> Closed:
        """Open a window now for ``seconds`` (whatever the schedule says)."""
        with self._lock:
            self._forced_until = self._clock() + seconds
            self.refused = 0
        closed = self.closed()
        assert closed is not None
        return closed

    def end_forced(self) -> bool:
        with self._lock:
            was, self._forced_until = self._forced_until is not None, None
        return was

    def reset(self) -> None:
        with self._lock:
            self._forced_until = None
            self.schedule = self._configured
            self.refused = 0

    def closed(self) -> Closed | None:
        """The window the service is in now, or None."""
        now = self._now()
        forced_until = self._forced_until
        if forced_until is not None:
            left = forced_until - self._clock()
            if left > 0:
                return Closed(now + timedelta(seconds=left), max(1, round(left)), True)
        if self.schedule is None:
            return None
        start, end = self.schedule
        second = now.hour * 3600 + now.minute * 60 + now.second
        inside = start <= second < end if start < end else second >= start or second < end
        if not inside:
            return None
        left_s = (end - second) % _DAY_S
        return Closed(now + timedelta(seconds=left_s), max(1, left_s), False)

    def refuse(self) -> None:
        with self._lock:
            self.refused += 1

    def describe(self) -> dict[str, object]:
        closed = self.closed()
        return {
            "nightly": _schedule_text(self.schedule),
            "open": closed is not None,
            "forced": bool(closed and closed.forced),
            "ends_at": closed.ends_at.isoformat() if closed else None,
            "refused": self.refused,
        }


def _schedule_text(schedule: tuple[int, int] | None) -> str:
    if schedule is None:
        return ""
    start, end = schedule
    return f"{start // 3600:02d}:{start % 3600 // 60:02d}-{end // 3600:02d}:{end % 3600 // 60:02d}"
