"""When to retry, and how long to wait first.

Backoff is exponential with full jitter: before retry ``n`` (n = 1 before the second
attempt) we sleep ``uniform(0, min(cap_ms, base_ms * 2**(n-1)))`` milliseconds, drawn from
an injected ``random.Random`` so a seeded test can assert the exact schedule. A 429 that
says Retry-After is waited for exactly that long when ``honour_retry_after`` is set, unless
it asks for more than ``max_retry_after_s``: then we do not retry at all.

Written here rather than with tenacity: its ``wait_random_exponential`` draws from the
module-level ``random``, so an injected, seeded rng could not drive it without patching,
and the schedule itself is three lines.

``RetryPlanner.decide`` applies the whole rule, in this order (cheapest refusal first, and
the budget last so a retry that could not happen anyway does not spend it):

1. not idempotent, not retryable, or no attempts left → no retry (error raised as is);
2. a Retry-After above the cap → ``retry_suppressed = "retry_after"``;
3. the sleep would not end before the deadline → ``retry_suppressed = "deadline"``;
4. the retry budget is spent → ``retry_suppressed = "budget"``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from integration.errors import SourceError, SourceRateLimited
from integration.policies.models import RetryPolicy

__all__ = ["BackoffSchedule", "RetryDecision", "RetryPlanner", "mark_suppressed"]


class BackoffSchedule:
    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self._rng = rng

    def ceiling_s(self, retry: int) -> float:
        """The largest sleep retry ``retry`` (1-based) may draw."""
        return min(self.policy.cap_ms, self.policy.base_ms * 2.0 ** (retry - 1)) / 1000

    def delay_s(self, retry: int, error: BaseException | None = None) -> float | None:
        """Seconds to sleep before retry ``retry``; None when the error forbids retrying."""
        if (
            self.policy.honour_retry_after
            and isinstance(error, SourceRateLimited)
            and error.retry_after_s is not None
        ):
            if error.retry_after_s > self.policy.max_retry_after_s:
                return None
            return max(0.0, error.retry_after_s)
        return self._rng.uniform(0.0, self.ceiling_s(retry))


@dataclass(frozen=True)
class RetryDecision:
    delay_s: float | None  # None: do not retry
    suppressed: str | None = None  # why a retry that was otherwise due did not happen


class RetryPlanner:
    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.backoff = BackoffSchedule(policy, rng)

    def decide(
        self,
        error: SourceError,
        *,
        attempts_made: int,
        idempotent: bool,
        remaining_s: float,
        spend_budget: Callable[[], bool],
    ) -> RetryDecision:
        if not (idempotent and error.retryable and attempts_made < self.policy.max_attempts):
            return RetryDecision(None)
        delay = self.backoff.delay_s(attempts_made, error)
        if delay is None:
            return RetryDecision(None, "retry_after")
        if delay >= remaining_s:
            return RetryDecision(None, "deadline")
        if not spend_budget():
            return RetryDecision(None, "budget")
        return RetryDecision(delay)


def mark_suppressed(error: SourceError, why: str) -> SourceError:
    """Say on the error why it was not retried (for events, logs and tracebacks)."""
    error.retry_suppressed = why
    error.add_note(f"not retried: {why}")
    return error
