"""A deadline shared by every step of one request (hand-written: no library carries one
budget across a fan-out of asyncio tasks)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started_at = clock()
        self.expires_at = self.started_at + budget_s

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self.expires_at

    def elapsed(self) -> float:
        return self._clock() - self.started_at

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining() * 1000:.0f}ms)"
