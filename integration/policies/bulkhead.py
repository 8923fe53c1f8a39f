"""Bulkhead: at most ``max_concurrent`` calls in flight per system, refused at once beyond.

Hand-written because it is a counter: an ``asyncio.Semaphore`` would queue the excess,
and a voice turn cannot wait in a queue behind a source that is already saturated; it is
better told now, so it can fall back to the cache.
"""

from __future__ import annotations

from typing import Any

from integration.policies.models import BulkheadPolicy

__all__ = ["Bulkhead"]


class Bulkhead:
    def __init__(self, policy: BulkheadPolicy) -> None:
        self.max_concurrent = policy.max_concurrent
        self.in_flight = 0
        self.refused = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.max_concurrent:
            self.refused += 1
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("bulkhead released more often than acquired")
        self.in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "in_flight": self.in_flight,
            "max_concurrent": self.max_concurrent,
            "refused": self.refused,
        }
