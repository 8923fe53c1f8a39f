"""Latency tracker and hedged attempts (hedge.py, executor.py step 5), in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from integration.errors import SourceUnavailable
from integration.policies.deadline import Deadline
from integration.policies.executor import SourceExecutor
from integration.policies.hedge import LatencyTracker
from integration.policies.models import HedgePolicy, SystemPolicy
from tests.unit._policy_fakes import Script, loop_clock, make_executor, policy, run_virtual

HEDGED = policy(
    timeout={"per_attempt_ms": 2000},
    hedge={"enabled": True, "percentile": 95, "min_delay_ms": 10, "min_samples": 20},
)


def test_tracker_percentile_is_nearest_rank_over_a_bounded_window() -> None:
    tracker = LatencyTracker(HedgePolicy(enabled=True, min_samples=5), window=100)
    for ms in range(1, 201):  # only the last 100 (101..200 ms) are kept
        tracker.record("op", ms / 1000)
    assert tracker.count("op") == 100
    assert tracker.percentile_s("op", 95) == pytest.approx(0.195)
    assert tracker.percentile_s("op", 50) == pytest.approx(0.150)
    assert tracker.percentile_s("other", 50) is None


def test_hedge_delay_waits_for_min_samples_and_has_a_floor() -> None:
    tracker = LatencyTracker(HedgePolicy(enabled=True, min_samples=3, min_delay_ms=20))
    tracker.record("op", 0.005)
    tracker.record("op", 0.006)
    assert tracker.hedge_delay_s("op") is None  # two samples: not yet
    tracker.record("op", 0.007)
    assert tracker.hedge_delay_s("op") == pytest.approx(0.020)  # p95 is 7 ms: the floor wins
    tracker.record("op", 0.300)
    assert tracker.hedge_delay_s("op") == pytest.approx(0.300)
    off = LatencyTracker(HedgePolicy(enabled=False, min_samples=1))
    off.record("op", 0.1)
    assert off.hedge_delay_s("op") is None


async def _warm(executor: SourceExecutor, latency_s: float = 0.05, n: int = 20) -> None:
    warm = Script((latency_s, "warm"))
    for _ in range(n):
        await executor.call("op", warm, deadline=Deadline(5, loop_clock), idempotent=True)


def test_hedge_fires_at_p95_and_the_faster_result_wins() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(HEDGED)
        await _warm(executor)  # p95 = 50 ms
        records.clear()
        fn = Script((1.0, "slow primary"), (0.03, "fast hedge"))
        start = loop_clock()
        value = await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert value == "fast hedge"
        assert loop_clock() - start == pytest.approx(0.08)  # 50 ms delay + 30 ms hedge
        assert fn.started[1] - start == pytest.approx(0.05)
        assert [(a.number, a.hedge) for a in fn.seen] == [(1, False), (2, True)]
        by_attempt = {r.attempt: r for r in records}
        assert (by_attempt[1].outcome, by_attempt[1].hedge) == ("cancelled", False)
        assert (by_attempt[2].outcome, by_attempt[2].hedge) == ("ok", True)
        assert by_attempt[1].latency_ms == pytest.approx(80.0)
        budget = executor.snapshot()["retry_budget"]
        assert budget["retries"] == 1  # a hedge spends from the retry budget

    run_virtual(main)


def test_primary_that_beats_its_hedge_wins() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(HEDGED)
        await _warm(executor)
        records.clear()
        fn = Script((0.07, "primary"), (0.5, "hedge"))
        start = loop_clock()
        assert (
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
            == "primary"
        )
        assert loop_clock() - start == pytest.approx(0.07)
        assert sorted((r.attempt, r.outcome) for r in records) == [(1, "ok"), (2, "cancelled")]

    run_virtual(main)


def test_a_fast_failure_does_not_end_the_race() -> None:
    async def main() -> None:
        executor, _, sleep = make_executor(HEDGED)
        await _warm(executor)
        fn = Script((0.06, SourceUnavailable), (0.04, "hedge"))
        assert (
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
            == "hedge"
        )
        assert sleep.sleeps == []  # no retry was needed

    run_virtual(main)


def test_no_hedge_when_the_primary_is_quick_or_the_call_is_not_idempotent() -> None:
    async def main() -> None:
        executor, _, _ = make_executor(HEDGED)
        await _warm(executor)
        quick = Script((0.04, "quick"))
        await executor.call("op", quick, deadline=Deadline(5, loop_clock), idempotent=True)
        slow = Script((0.5, "slow"))
        await executor.call("op", slow, deadline=Deadline(5, loop_clock), idempotent=False)
        assert len(quick.seen) == 1 and len(slow.seen) == 1

    run_virtual(main)


def test_no_hedge_before_min_samples() -> None:
    async def main() -> None:
        executor, _, _ = make_executor(HEDGED)
        await _warm(executor, n=19)
        slow = Script((0.5, "slow"))
        await executor.call("op", slow, deadline=Deadline(5, loop_clock), idempotent=True)
        assert len(slow.seen) == 1

    run_virtual(main)


def test_no_hedge_when_the_budget_is_spent() -> None:
    async def main() -> None:
        no_budget = SystemPolicy.model_validate(
            {
                **HEDGED.model_dump(),
                "retry_budget": {"ratio": 0, "min_per_s": 0},
            }
        )
        executor, _, _ = make_executor(no_budget)
        await _warm(executor)
        slow = Script((0.5, "slow"))
        await executor.call("op", slow, deadline=Deadline(5, loop_clock), idempotent=True)
        assert len(slow.seen) == 1

    run_virtual(main)


def test_caller_cancellation_cancels_both_attempts() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(HEDGED)
        await _warm(executor)
        records.clear()
        fn = Script((1.0, "a"), (1.0, "b"))
        task = asyncio.create_task(
            executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted((r.attempt, r.outcome) for r in records) == [
            (1, "cancelled"),
            (2, "cancelled"),
        ]
        snap = executor.snapshot()
        assert snap["in_flight"] == 0 and snap["breaker"]["calls"] == 20

    run_virtual(main)


def test_no_hedge_without_free_quota() -> None:
    async def main() -> None:
        quota = SystemPolicy.model_validate(
            {
                **HEDGED.model_dump(),
                "rate_limit": {"requests": 21, "per_s": 100},
            }
        )
        executor, _, _ = make_executor(quota)
        await _warm(executor)  # 20 of the 21 units
        slow = Script((0.5, "slow"))
        await executor.call("op", slow, deadline=Deadline(5, loop_clock), idempotent=True)
        assert len(slow.seen) == 1
        assert executor.snapshot()["retry_budget"]["retries"] == 0  # nothing spent either

    run_virtual(main)
