"""Sheets' per-minute quotas: so many read requests and so many write requests a minute.

Google counts every request against a per-minute bucket (300 reads and 300 writes a minute
per project by default, 60 per user) and answers the rest with 429 RESOURCE_EXHAUSTED until
the minute is over; it sends no Retry-After, so clients back off on their own. Here a
bucket's minute starts with its first request, on the injected monotonic clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_PER_MINUTE", "MinuteQuota"]

DEFAULT_PER_MINUTE = 300
WINDOW_S = 60.0


@dataclass
class MinuteQuota:
    clock: Callable[[], float]
    per_minute: int = DEFAULT_PER_MINUTE
    started: float | None = None
    used: int = 0
    refused: int = 0

    def take(self) -> bool:
        """Count one request; False when this minute's quota is spent."""
        now = self.clock()
        if self.started is None or now - self.started >= WINDOW_S:
            self.started, self.used = now, 0
        if self.used >= self.per_minute:
            self.refused += 1
            return False
        self.used += 1
        return True

    def restart(self, per_minute: int) -> None:
        """A new limit, and a new minute from the next request."""
        self.per_minute, self.started, self.used = per_minute, None, 0

    def seconds_left(self) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, WINDOW_S - (self.clock() - self.started))

    def describe(self) -> dict[str, float | int]:
        return {
            "per_minute": self.per_minute,
            "used": self.used,
            "refused": self.refused,
            "seconds_left": round(self.seconds_left(), 3),
        }
