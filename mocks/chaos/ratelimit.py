"""Per-key token buckets that answer "may this request pass, and if not, when to retry"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mocks.chaos.models import RateLimitSpec

__all__ = ["QuotaBuckets"]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class QuotaBuckets:
    """Token buckets keyed by caller. aiolimiter waits instead of refusing, and a vendor
    refuses with Retry-After, so this small bucket is written here."""

    def __init__(self, spec: RateLimitSpec, clock: Callable[[], float]) -> None:
        self.spec = spec
        self._clock = clock
        self._rate = spec.requests / spec.per_s
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float | None:
        """Spend one token for ``key``; return None if allowed, else seconds until one is free."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.spec.requests), now)
        bucket.tokens = min(
            float(self.spec.requests), bucket.tokens + (now - bucket.updated) * self._rate
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate
