"""SourceExecutor (executor.py): the order of refusals, attempts, retries and records.

Runs on a virtual-time event loop: backoffs are asserted exactly, never waited for.
"""

from __future__ import annotations

import asyncio

import pytest

from integration.errors import (
    BreakerOpen,
    CredentialsRejected,
    DeadlineExceeded,
    NotFound,
    Rejected,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from integration.policies.deadline import Deadline
from integration.policies.executor import Attempt
from tests.unit._policy_fakes import Script, loop_clock, make_executor, policy, run_virtual

# Random(7) drawn as uniform(0, 25 ms), uniform(0, 50 ms), uniform(0, 100 ms)
SEED_7_BACKOFF = [0.00809581912082906, 0.007542458696225097, 0.06509344730398538]
NO_BREAKER = {"min_calls": 1_000_000}


def test_backoff_schedule_is_exact_and_sleeps_only_between_attempts() -> None:
    async def main() -> None:
        executor, records, sleep = make_executor(
            policy(retry={"max_attempts": 4, "base_ms": 25, "cap_ms": 1000})
        )
        fn = Script((0.01, SourceUnavailable))
        start = loop_clock()
        with pytest.raises(SourceUnavailable) as raised:
            await executor.call("op", fn, deadline=Deadline(10, loop_clock), idempotent=True)
        assert sleep.sleeps == pytest.approx(SEED_7_BACKOFF, rel=1e-12)
        assert raised.value.retry_suppressed is None  # attempts ran out; nothing suppressed
        assert [a.number for a in fn.seen] == [1, 2, 3, 4]
        assert [r.outcome for r in records] == ["unavailable"] * 4
        assert loop_clock() - start == pytest.approx(4 * 0.01 + sum(SEED_7_BACKOFF))
        # each attempt started right after the previous one's backoff
        gaps = [b - a - 0.01 for a, b in zip(fn.started, fn.started[1:], strict=False)]
        assert gaps == pytest.approx(SEED_7_BACKOFF)

    run_virtual(main)


def test_success_after_retries_returns_the_value_and_feeds_budget_and_latency() -> None:
    async def main() -> None:
        executor, records, sleep = make_executor()
        fn = Script((0.01, SourceUnavailable), (0.02, SourceTimeout), (0.03, {"id": 1}))
        value = await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert value == {"id": 1}
        assert sleep.sleeps == pytest.approx(SEED_7_BACKOFF[:2], rel=1e-12)
        assert [r.outcome for r in records] == ["unavailable", "timeout", "ok"]
        snap = executor.snapshot()
        assert snap["retry_budget"]["successes"] == 1 and snap["retry_budget"]["retries"] == 2
        assert snap["latency"]["op"]["samples"] == 1
        assert snap["latency"]["op"]["p50_ms"] == pytest.approx(30.0)

    run_virtual(main)


@pytest.mark.parametrize("seed", range(40))
def test_schedule_never_passes_the_deadline(seed: int) -> None:
    async def main() -> None:
        executor, records, sleep = make_executor(
            policy(
                timeout={"per_attempt_ms": 300},
                retry={"max_attempts": 10, "base_ms": 100, "cap_ms": 1000},
                retry_budget={"min_per_s": 100},
                breaker=NO_BREAKER,
            ),
            seed=seed,
        )
        deadline = Deadline(1.0, loop_clock)
        fn = Script((5.0, "never"))  # hangs: every attempt times out
        with pytest.raises(SourceTimeout) as raised:
            await executor.call("op", fn, deadline=deadline, idempotent=True)
        assert loop_clock() <= deadline.expires_at + 1e-9
        for attempt, started in zip(fn.seen, fn.started, strict=True):
            assert started + attempt.timeout_s <= deadline.expires_at + 1e-9
        assert all(
            r.started_at + r.latency_ms / 1000 <= deadline.expires_at + 1e-9 for r in records
        )
        assert raised.value.retry_suppressed == "deadline"
        assert sum(sleep.sleeps) < 1.0

    run_virtual(main)


def test_the_deadline_cuts_a_backoff_that_would_end_after_it() -> None:
    async def main() -> None:
        executor, records, sleep = make_executor(
            policy(retry={"max_attempts": 5, "base_ms": 1000, "cap_ms": 1000})
        )
        # the first draw from Random(7) is 0.3238 s of a 1 s ceiling; 0.25 s are left
        fn = Script((0.05, SourceUnavailable))
        with pytest.raises(SourceUnavailable) as raised:
            await executor.call("op", fn, deadline=Deadline(0.3, loop_clock), idempotent=True)
        assert raised.value.retry_suppressed == "deadline"
        assert "not retried: deadline" in raised.value.__notes__
        assert sleep.sleeps == [] and len(records) == 1

    run_virtual(main)


def test_retry_after_is_honoured_and_capped() -> None:
    async def main() -> None:
        executor, _, sleep = make_executor(policy(retry={"max_retry_after_s": 1.0}))
        fn = Script(
            (0.0, lambda: SourceRateLimited("crm", "op", status=429, retry_after_s=0.75)),
            (0.0, "fine"),
        )
        assert (
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
            == "fine"
        )
        assert sleep.sleeps == [0.75]

        too_long = Script((0.0, lambda: SourceRateLimited("crm", "op", retry_after_s=1.5)))
        with pytest.raises(SourceRateLimited) as raised:
            await executor.call("op", too_long, deadline=Deadline(5, loop_clock), idempotent=True)
        assert raised.value.retry_suppressed == "retry_after"
        assert len(too_long.seen) == 1 and sleep.sleeps == [0.75]

    run_virtual(main)


@pytest.mark.parametrize("error", [SourceUnavailable, SourceTimeout, SourceRateLimited])
def test_non_idempotent_calls_are_never_retried(error: type[Exception]) -> None:
    async def main() -> None:
        executor, records, sleep = make_executor()
        fn = Script((0.01, error))
        with pytest.raises(error):
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=False)
        assert len(fn.seen) == 1 and sleep.sleeps == [] and len(records) == 1

    run_virtual(main)


def test_a_hung_attempt_becomes_source_timeout_capped_by_the_deadline() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(
            policy(timeout={"per_attempt_ms": 200}, retry={"max_attempts": 1})
        )
        fn = Script((60.0, "late"))
        with pytest.raises(SourceTimeout) as raised:
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert (raised.value.system, raised.value.operation) == ("crm", "op")
        assert fn.seen[0].timeout_s == pytest.approx(0.2)
        assert records[0].latency_ms == pytest.approx(200.0)

        with pytest.raises(SourceTimeout):
            await executor.call("op", fn, deadline=Deadline(0.15, loop_clock), idempotent=True)
        assert fn.seen[1].timeout_s == pytest.approx(0.15)

    run_virtual(main)


def test_an_expired_deadline_refuses_without_an_attempt() -> None:
    async def main() -> None:
        executor, records, _ = make_executor()
        deadline = Deadline(0.1, loop_clock)
        fn = Script((0.0, "x"))
        await asyncio.sleep(0.1)
        with pytest.raises(DeadlineExceeded):
            await executor.call("op", fn, deadline=deadline, idempotent=True, call_id="c1")
        assert fn.seen == []
        (record,) = records
        assert (record.outcome, record.attempt, record.call_id) == ("deadline_exceeded", 1, "c1")
        assert record.breaker_state == "closed"

    run_virtual(main)


@pytest.mark.parametrize("answer", [NotFound, Rejected, CredentialsRejected])
def test_answers_are_not_failures_for_the_breaker(answer: type[Exception]) -> None:
    async def main() -> None:
        executor, _, _ = make_executor(policy(breaker={"min_calls": 5}))
        fn = Script((0.01, answer))
        for _ in range(20):
            with pytest.raises(answer):
                await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        breaker = executor.snapshot()["breaker"]
        assert (breaker["state"], breaker["calls"], breaker["failures"]) == ("closed", 20, 0)
        assert len(fn.seen) == 20  # permanent errors are not retried either

    run_virtual(main)


def test_failures_open_the_breaker_and_it_refuses_with_a_record() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(
            policy(retry={"max_attempts": 1}, breaker={"min_calls": 5, "failure_rate": 0.5})
        )
        fn = Script((0.01, SourceUnavailable))
        for _ in range(5):
            with pytest.raises(SourceUnavailable):
                await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        with pytest.raises(BreakerOpen):
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert len(fn.seen) == 5
        assert (records[-1].outcome, records[-1].breaker_state) == ("breaker_open", "open")
        assert records[-2].breaker_state == "closed"  # the attempt that tripped it

    run_virtual(main)


def test_slow_successes_open_the_breaker() -> None:
    async def main() -> None:
        executor, _, _ = make_executor(
            policy(
                timeout={"per_attempt_ms": 1000},
                breaker={"min_calls": 5, "slow_call_ms": 300, "slow_call_rate": 0.8},
            )
        )
        fn = Script((0.4, "slow but fine"))
        for _ in range(5):
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert executor.snapshot()["breaker"]["state"] == "open"

    run_virtual(main)


def test_a_retry_refused_by_a_breaker_that_opened_meanwhile() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(policy(breaker={"min_calls": 1, "failure_rate": 1.0}))
        fn = Script((0.01, SourceUnavailable))
        with pytest.raises(SourceUnavailable) as raised:
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        assert raised.value.retry_suppressed == "breaker"
        assert [(r.attempt, r.outcome) for r in records] == [
            (1, "unavailable"),
            (2, "breaker_open"),
        ]

    run_virtual(main)


def test_retry_budget_caps_retries_in_a_storm() -> None:
    async def main() -> None:
        executor, _, _ = make_executor(
            policy(
                retry={"max_attempts": 3},
                retry_budget={"ratio": 0.1, "min_per_s": 1.0, "window_s": 10},
                breaker=NO_BREAKER,
            )
        )
        ok = Script((0.0, "ok"))
        for _ in range(1000):
            await executor.call("op", ok, deadline=Deadline(5, loop_clock), idempotent=True)
        storm = Script((0.0, SourceUnavailable))
        suppressed = []
        for _ in range(300):
            with pytest.raises(SourceUnavailable) as raised:
                await executor.call("op", storm, deadline=Deadline(5, loop_clock), idempotent=True)
            suppressed.append(raised.value.retry_suppressed)
        retries = len(storm.seen) - 300
        assert retries == 100 + 10  # 10% of 1000 successes + 1/s floor over 10 s
        assert suppressed.count("budget") == 300 - 110 // 2
        assert executor.snapshot()["retry_budget"]["available"] == 0

    run_virtual(main)


def test_success_is_cached_under_its_key_with_age() -> None:
    async def main() -> None:
        executor, _, _ = make_executor()
        fn = Script((0.0, [{"Id": "003A"}]))
        await executor.call(
            "find", fn, deadline=Deadline(5, loop_clock), idempotent=True, cache_key="+14155550123"
        )
        await executor.call("find", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        await asyncio.sleep(30)
        cached = executor.last_good("find", "+14155550123")
        assert cached is not None and cached.value == [{"Id": "003A"}]
        assert cached.age_s == pytest.approx(30)
        assert executor.snapshot()["cache_entries"] == 1

    run_virtual(main)


def test_on_attempt_receives_every_attempt_and_refusal() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(policy(bulkhead={"max_concurrent": 1}))
        fn = Script((0.0, SourceUnavailable), (0.0, SourceUnavailable), (0.0, "ok"))
        await executor.call(
            "op", fn, deadline=Deadline(5, loop_clock), idempotent=True, call_id="call-9"
        )
        with pytest.raises(DeadlineExceeded):
            await executor.call("op", fn, deadline=Deadline(0, loop_clock), idempotent=True)
        assert [(r.attempt, r.outcome) for r in records] == [
            (1, "unavailable"),
            (2, "unavailable"),
            (3, "ok"),
            (1, "deadline_exceeded"),
        ]
        first = records[0]
        assert (first.system, first.operation, first.call_id, first.hedge) == (
            "crm",
            "op",
            "call-9",
            False,
        )
        assert not any(r.cache_hit for r in records)

    run_virtual(main)


def test_status_and_injected_fault_come_from_the_error_or_the_attempt() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(policy(retry={"max_attempts": 1}))

        async def fn(attempt: Attempt) -> str:
            attempt.status, attempt.injected_fault = 200, "latency"
            return "ok"

        await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        failing = Script(
            (0.0, lambda: SourceUnavailable("crm", "op", status=503, injected_fault="503"))
        )
        with pytest.raises(SourceUnavailable):
            await executor.call("op", failing, deadline=Deadline(5, loop_clock), idempotent=True)
        assert [(r.status, r.injected_fault) for r in records] == [(200, "latency"), (503, "503")]

    run_virtual(main)


def test_an_attempt_cut_short_by_the_deadline_gives_the_breaker_no_verdict() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(
            policy(
                timeout={"per_attempt_ms": 300},
                retry={"max_attempts": 1},
                breaker={"min_calls": 5, "failure_rate": 0.5},
            )
        )
        fn = Script((0.2, {"id": 1}))  # a healthy source: 200 ms, inside its 300 ms timeout
        for _ in range(10):  # but each caller has only 50 ms left of its own deadline
            with pytest.raises(SourceTimeout):
                await executor.call("op", fn, deadline=Deadline(0.05, loop_clock), idempotent=True)
        assert [r.outcome for r in records] == ["timeout"] * 10
        assert executor.snapshot()["breaker"]["state"] == "closed"
        # the same timeouts at the source's own limit do count
        for _ in range(10):
            with pytest.raises((SourceTimeout, BreakerOpen)):
                await executor.call(
                    "op", Script((1.0, "slow")), deadline=Deadline(5, loop_clock), idempotent=True
                )
        assert executor.snapshot()["breaker"]["state"] == "open"

    run_virtual(main)
