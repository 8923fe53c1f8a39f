"""Backoff schedule and the retry decision (retry.py), with a seeded rng: exact values."""

from __future__ import annotations

import random
from typing import Any

import pytest

from integration.errors import NotFound, SourceError, SourceRateLimited, SourceUnavailable
from integration.policies.models import RetryPolicy
from integration.policies.retry import (
    BackoffSchedule,
    RetryDecision,
    RetryPlanner,
    mark_suppressed,
)

POLICY = RetryPolicy(max_attempts=3, base_ms=25, cap_ms=1000, max_retry_after_s=2)


def test_full_jitter_schedule_is_exact_for_a_seed() -> None:
    schedule = BackoffSchedule(POLICY, random.Random(7))
    delays = [schedule.delay_s(n) for n in range(1, 8)]
    # uniform(0, min(1 s, 25 ms * 2**(n-1))) drawn from Random(7), in order
    assert delays == pytest.approx(
        [
            0.00809581912082906,
            0.007542458696225097,
            0.06509344730398538,
            0.014487257333508552,
            0.21435280172267568,
            0.29255113353006845,
            0.057998924774706806,
        ],
        rel=1e-12,
    )


def test_ceiling_doubles_then_stops_at_the_cap() -> None:
    schedule = BackoffSchedule(POLICY, random.Random(0))
    assert [schedule.ceiling_s(n) for n in range(1, 9)] == pytest.approx(
        [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    )


def test_every_draw_stays_within_its_ceiling() -> None:
    schedule = BackoffSchedule(POLICY, random.Random(3))
    for n in range(1, 12):
        for _ in range(200):
            delay = schedule.delay_s(n)
            assert delay is not None and 0 <= delay <= schedule.ceiling_s(n)


def test_retry_after_is_waited_exactly_and_draws_nothing() -> None:
    rng = random.Random(7)
    schedule = BackoffSchedule(POLICY, rng)
    limited = SourceRateLimited("crm", "query", retry_after_s=1.5)
    assert schedule.delay_s(1, limited) == 1.5
    # the jitter sequence was not consumed by the Retry-After
    assert schedule.delay_s(1) == pytest.approx(0.00809581912082906, rel=1e-12)


def test_retry_after_above_the_cap_means_no_retry() -> None:
    schedule = BackoffSchedule(POLICY, random.Random(7))
    assert schedule.delay_s(1, SourceRateLimited("crm", "q", retry_after_s=2.5)) is None
    assert schedule.delay_s(1, SourceRateLimited("crm", "q", retry_after_s=2.0)) == 2.0


def test_retry_after_ignored_when_not_honoured() -> None:
    policy = POLICY.model_copy(update={"honour_retry_after": False})
    schedule = BackoffSchedule(policy, random.Random(7))
    delay = schedule.delay_s(1, SourceRateLimited("crm", "q", retry_after_s=60))
    assert delay == pytest.approx(0.00809581912082906, rel=1e-12)


def _decide(
    planner: RetryPlanner,
    error: SourceError,
    *,
    attempts: int = 1,
    idempotent: bool = True,
    remaining: float = 10.0,
    budget: bool = True,
) -> tuple[RetryDecision, list[bool]]:
    spent: list[bool] = []

    def spend() -> bool:
        spent.append(budget)
        return budget

    decision = planner.decide(
        error,
        attempts_made=attempts,
        idempotent=idempotent,
        remaining_s=remaining,
        spend_budget=spend,
    )
    return decision, spent


def test_planner_refuses_what_is_not_retryable_without_spending_budget() -> None:
    planner = RetryPlanner(POLICY, random.Random(1))
    unavailable = SourceUnavailable("crm", "q")
    cases: list[tuple[dict[str, Any], SourceError]] = [
        ({"idempotent": False}, unavailable),
        ({}, NotFound("crm", "q")),
        ({"attempts": 3}, unavailable),  # max_attempts reached
    ]
    for kwargs, error in cases:
        decision, spent = _decide(planner, error, **kwargs)
        assert decision.delay_s is None and decision.suppressed is None
        assert spent == []


def test_planner_orders_retry_after_then_deadline_then_budget() -> None:
    planner = RetryPlanner(POLICY, random.Random(1))
    long_wait = SourceRateLimited("crm", "q", retry_after_s=3)
    assert _decide(planner, long_wait)[0].suppressed == "retry_after"
    # the sleep would end at or after the deadline: the budget is not touched
    decision, spent = _decide(
        planner, SourceRateLimited("crm", "q", retry_after_s=1), remaining=1.0
    )
    assert (decision.suppressed, spent) == ("deadline", [])
    decision, spent = _decide(planner, SourceUnavailable("crm", "q"), budget=False)
    assert (decision.suppressed, spent) == ("budget", [False])
    decision, spent = _decide(planner, SourceUnavailable("crm", "q"))
    assert decision.delay_s is not None and decision.suppressed is None and spent == [True]


def test_mark_suppressed_sets_attribute_and_note() -> None:
    error = mark_suppressed(SourceUnavailable("crm", "q"), "budget")
    assert error.retry_suppressed == "budget"
    assert error.__notes__ == ["not retried: budget"]
    assert SourceUnavailable("crm", "q").retry_suppressed is None
