"""Retry budget (budget.py): retries are a bounded share of recent successes."""

from __future__ import annotations

from integration.policies.budget import RetryBudget
from integration.policies.models import RetryBudgetPolicy
from tests.unit._policy_fakes import ManualClock

POLICY = RetryBudgetPolicy(ratio=0.1, min_per_s=1.0, window_s=10)


def _spend_all(budget: RetryBudget, limit: int = 10_000) -> int:
    spent = 0
    while spent < limit and budget.try_spend():
        spent += 1
    return spent


def test_a_quiet_system_still_gets_the_floor() -> None:
    budget = RetryBudget(POLICY, ManualClock())
    assert _spend_all(budget) == 10  # min_per_s * window_s
    assert budget.snapshot()["refused"] == 1


def test_storm_after_1000_successes_allows_100_plus_floor() -> None:
    clock = ManualClock()
    budget = RetryBudget(POLICY, clock)
    for _ in range(1000):
        budget.record_success()
    clock.advance(1.0)
    # every request now fails and wants a retry: only 10% of the successes, plus the floor
    assert _spend_all(budget) == 100 + 10
    snap = budget.snapshot()
    assert (snap["successes"], snap["retries"], snap["available"]) == (1000, 110, 0)


def test_budget_refills_as_successes_come_back() -> None:
    clock = ManualClock()
    budget = RetryBudget(POLICY, clock)
    assert _spend_all(budget) == 10
    for _ in range(50):
        budget.record_success()
    assert _spend_all(budget) == 5


def test_old_successes_and_retries_age_out_of_the_window() -> None:
    clock = ManualClock()
    budget = RetryBudget(POLICY, clock)
    for _ in range(1000):
        budget.record_success()
    assert _spend_all(budget) == 110
    clock.advance(10.0)  # the window has slid past both the successes and the retries
    assert budget.snapshot()["successes"] == 0
    assert _spend_all(budget) == 10


def test_zero_ratio_and_zero_floor_means_no_retries() -> None:
    budget = RetryBudget(RetryBudgetPolicy(ratio=0, min_per_s=0, window_s=10), ManualClock())
    for _ in range(100):
        budget.record_success()
    assert not budget.try_spend()
