"""Provisioned throughput: so many read and write requests a second per table, then
``ProvisionedThroughputExceededException`` (a 400, as DynamoDB answers it; botocore
retries it on its own, with backoff). One request costs one unit, whatever its size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Bucket"]


@dataclass
class Bucket:
    clock: Callable[[], float]
    per_s: int
    tokens: float = -1.0
    at: float = 0.0
    refused: int = 0

    def take(self) -> bool:
        now = self.clock()
        if self.tokens < 0:  # a full second's worth to begin with
            self.tokens, self.at = float(self.per_s), now
        self.tokens = min(float(self.per_s), self.tokens + (now - self.at) * self.per_s)
        self.at = now
        if self.tokens < 1:
            self.refused += 1
            return False
        self.tokens -= 1
        return True
