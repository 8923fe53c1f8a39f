"""Retry budget per system: retries may add at most ``ratio`` of the recent successes.

Hand-written after Finagle's ``RetryBudget``: no maintained Python library keeps a
retry-to-success ratio across calls, and it is a small sliding-window count.

Over the last ``window_s`` seconds a system may spend

    ratio * successes + min_per_s * window_s

retries. The floor lets a quiet system retry at all; the ratio means that when a source
starts failing everything, the retries it provokes stay a tenth (by default) of the
traffic it used to carry, instead of tripling the load on a source that is already down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integration.policies._window import SlidingCounts
from integration.policies.models import RetryBudgetPolicy

__all__ = ["RetryBudget"]


class RetryBudget:
    def __init__(self, policy: RetryBudgetPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._counts = SlidingCounts(policy.window_s, clock, width=2)  # successes, retries
        self._refused = 0

    def record_success(self) -> None:
        self._counts.add(1, 0)

    def allowance(self) -> float:
        """Retries the window allows in total (spent ones included)."""
        successes, _ = self._counts.totals()
        return self.policy.ratio * successes + self.policy.min_per_s * self.policy.window_s

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        successes, retries = self._counts.totals()
        allowance = self.policy.ratio * successes + self.policy.min_per_s * self.policy.window_s
        if retries + 1 > allowance:
            self._refused += 1
            return False
        self._counts.add(0, 1)
        return True

    def snapshot(self) -> dict[str, Any]:
        successes, retries = self._counts.totals()
        allowance = self.policy.ratio * successes + self.policy.min_per_s * self.policy.window_s
        return {
            "window_s": self.policy.window_s,
            "successes": successes,
            "retries": retries,
            "allowance": round(allowance, 2),
            "available": max(0, int(allowance) - retries),
            "refused": self._refused,
        }
