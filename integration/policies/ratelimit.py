"""The vendor's quota, kept on our side with aiolimiter's leaky bucket.

``requests`` per ``per_s`` seconds, bursts up to ``requests`` allowed. A request that finds
the bucket full waits, but never past the caller's deadline:

* if requests are already queued, each of them needs at least one full drain interval
  (``per_s / requests``) before ours, so when that alone passes the deadline we refuse at
  once (``DeadlineExceeded``) instead of waiting to find out;
* otherwise we wait at most the deadline's remaining time, then refuse.

aiolimiter measures time with the event loop's clock (``loop.time()``), not our injected
clock; in production both are ``time.monotonic``. Unit tests run on a virtual-time event
loop, so the limiter and the injected clock still agree there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiolimiter import AsyncLimiter

from integration.errors import DeadlineExceeded
from integration.policies.deadline import Deadline
from integration.policies.models import RateLimitPolicy

__all__ = ["ClientRateLimit"]


class ClientRateLimit:
    def __init__(self, system: str, policy: RateLimitPolicy) -> None:
        self.system = system
        self.policy = policy
        self._limiter = AsyncLimiter(policy.requests, policy.per_s)
        self._interval_s = policy.per_s / policy.requests
        self._waiting = 0
        self.refused = 0

    async def acquire(self, deadline: Deadline, operation: str) -> None:
        """Take one request's worth of quota, waiting no later than ``deadline``."""
        if self.has_capacity():
            await self._limiter.acquire()  # capacity is there: returns without suspending
            return
        remaining = deadline.remaining()
        if remaining <= self._waiting * self._interval_s:
            raise self._refuse(operation, f"{self._waiting} requests queued ahead")
        self._waiting += 1
        try:
            async with asyncio.timeout(remaining):
                await self._limiter.acquire()
        except TimeoutError:
            raise self._refuse(operation, "no quota before the deadline") from None
        finally:
            self._waiting -= 1

    def has_capacity(self) -> bool:
        """Whether a request could take quota right now without queueing."""
        return self._waiting == 0 and self._limiter.has_capacity()

    async def acquire_free(self) -> None:
        """Take quota that ``has_capacity`` just found free (for hedges, which never queue).

        With capacity there, aiolimiter's ``acquire`` returns without suspending."""
        if not self.has_capacity():
            raise RuntimeError("acquire_free without free capacity")
        await self._limiter.acquire()

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.policy.requests,
            "per_s": self.policy.per_s,
            "waiting": self._waiting,
            "refused": self.refused,
        }

    def _refuse(self, operation: str, why: str) -> DeadlineExceeded:
        self.refused += 1
        return DeadlineExceeded(self.system, operation, f"rate limit: {why}")
