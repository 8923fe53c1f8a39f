"""Client-side quota (ratelimit.py, executor.py step 4): waits, but never past the deadline.

aiolimiter runs on the event loop's clock; here that loop is on virtual time.
"""

from __future__ import annotations

import asyncio

import pytest

from integration.errors import DeadlineExceeded, SourceUnavailable
from integration.policies.deadline import Deadline
from integration.policies.models import RateLimitPolicy
from integration.policies.ratelimit import ClientRateLimit
from tests.unit._policy_fakes import Script, loop_clock, make_executor, policy, run_virtual

TWO_PER_SECOND = RateLimitPolicy(requests=2, per_s=1)


def test_burst_then_waits_for_the_bucket_to_drain() -> None:
    async def main() -> None:
        limit = ClientRateLimit("crm", TWO_PER_SECOND)
        start = loop_clock()
        for _ in range(2):
            await limit.acquire(Deadline(5, loop_clock), "op")
        assert loop_clock() == start  # the burst is free
        await limit.acquire(Deadline(5, loop_clock), "op")
        assert loop_clock() - start == pytest.approx(0.5)  # one unit drains in 1/2 s

    run_virtual(main)


def test_a_wait_longer_than_the_deadline_ends_at_the_deadline() -> None:
    async def main() -> None:
        limit = ClientRateLimit("crm", TWO_PER_SECOND)
        for _ in range(2):
            await limit.acquire(Deadline(5, loop_clock), "op")
        start = loop_clock()
        with pytest.raises(DeadlineExceeded) as raised:
            await limit.acquire(Deadline(0.2, loop_clock), "lookup")
        assert loop_clock() - start == pytest.approx(0.2)
        assert (raised.value.system, raised.value.operation) == ("crm", "lookup")
        assert limit.snapshot()["refused"] == 1

    run_virtual(main)


def test_refused_at_once_when_the_queue_ahead_already_passes_the_deadline() -> None:
    async def main() -> None:
        limit = ClientRateLimit("crm", TWO_PER_SECOND)
        for _ in range(2):
            await limit.acquire(Deadline(5, loop_clock), "op")
        queued = [
            asyncio.create_task(limit.acquire(Deadline(5, loop_clock), "op")) for _ in range(2)
        ]
        await asyncio.sleep(0)
        start = loop_clock()
        # two waiters ahead need more than 2 * 0.5 s: a 0.9 s deadline cannot be met
        with pytest.raises(DeadlineExceeded):
            await limit.acquire(Deadline(0.9, loop_clock), "op")
        assert loop_clock() == start
        await asyncio.gather(*queued)
        assert loop_clock() - start == pytest.approx(1.0)

    run_virtual(main)


def test_free_quota_is_taken_without_waiting_and_never_queued_for() -> None:
    async def main() -> None:
        limit = ClientRateLimit("crm", TWO_PER_SECOND)
        for _ in range(2):
            assert limit.has_capacity()
            await limit.acquire_free()
        assert not limit.has_capacity()
        with pytest.raises(RuntimeError):
            await limit.acquire_free()
        await asyncio.sleep(0.5)
        assert limit.has_capacity()

    run_virtual(main)


def test_executor_takes_quota_per_attempt_and_refuses_a_late_call() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(
            policy(rate_limit={"requests": 2, "per_s": 1}, retry={"max_attempts": 3})
        )
        fn = Script((0.0, SourceUnavailable), (0.0, "ok"))
        # two attempts take both units of the burst
        await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        late = Script((0.0, "never run"))
        with pytest.raises(DeadlineExceeded):
            await executor.call("op", late, deadline=Deadline(0.1, loop_clock), idempotent=True)
        assert late.seen == []
        assert records[-1].outcome == "deadline_exceeded"
        assert records[-1].latency_ms == pytest.approx(100.0)  # the time spent waiting
        assert executor.snapshot()["bulkhead"]["in_flight"] == 0

    run_virtual(main)


def test_a_retry_that_cannot_get_quota_in_time_raises_the_last_error() -> None:
    async def main() -> None:
        executor, _, sleep = make_executor(
            policy(rate_limit={"requests": 1, "per_s": 10}, retry={"max_attempts": 3})
        )
        fn = Script((0.0, SourceUnavailable))
        with pytest.raises(SourceUnavailable) as raised:
            await executor.call("op", fn, deadline=Deadline(0.05, loop_clock), idempotent=True)
        assert raised.value.retry_suppressed == "deadline"
        assert len(fn.seen) == 1 and len(sleep.sleeps) == 1

    run_virtual(main)


def test_a_probe_cancelled_while_waiting_for_quota_frees_its_slot() -> None:
    async def main() -> None:
        executor, _, _ = make_executor(
            policy(
                rate_limit={"requests": 1, "per_s": 10},
                retry={"max_attempts": 1},
                breaker={"min_calls": 1, "failure_rate": 1.0, "open_s": 1, "half_open_probes": 1},
            )
        )
        with pytest.raises(SourceUnavailable):
            await executor.call(
                "op",
                Script((0.0, SourceUnavailable)),
                deadline=Deadline(30, loop_clock),
                idempotent=True,
            )
        await asyncio.sleep(1.0)
        probe = asyncio.create_task(
            executor.call(
                "op", Script((0.0, "ok")), deadline=Deadline(30, loop_clock), idempotent=True
            )
        )
        await asyncio.sleep(0.1)
        assert executor.snapshot()["breaker"]["probes_in_flight"] == 1
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        snap = executor.snapshot()
        assert (snap["breaker"]["state"], snap["breaker"]["probes_in_flight"]) == ("half_open", 0)
        assert snap["in_flight"] == 0

    run_virtual(main)
