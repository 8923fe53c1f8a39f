"""Bulkhead (bulkhead.py, executor.py step 3): the N+1th concurrent call is refused at once."""

from __future__ import annotations

import asyncio

import pytest

from integration.errors import BulkheadFull, SourceUnavailable
from integration.policies.bulkhead import Bulkhead
from integration.policies.deadline import Deadline
from integration.policies.executor import Attempt
from integration.policies.models import BulkheadPolicy
from tests.unit._policy_fakes import Script, loop_clock, make_executor, policy, run_virtual


def test_counter_refuses_beyond_max_and_frees_on_release() -> None:
    bulkhead = Bulkhead(BulkheadPolicy(max_concurrent=2))
    assert bulkhead.try_acquire() and bulkhead.try_acquire()
    assert not bulkhead.try_acquire()
    bulkhead.release()
    assert bulkhead.try_acquire()
    assert bulkhead.snapshot() == {"in_flight": 2, "max_concurrent": 2, "refused": 1}


def test_release_without_acquire_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        Bulkhead(BulkheadPolicy(max_concurrent=1)).release()


def test_executor_refuses_the_n_plus_first_call_at_once() -> None:
    async def main() -> None:
        executor, records, _ = make_executor(policy(bulkhead={"max_concurrent": 2}))
        gate = asyncio.Event()

        async def blocked(attempt: Attempt) -> str:
            await gate.wait()
            return "done"

        running = [
            asyncio.create_task(
                executor.call("op", blocked, deadline=Deadline(5, loop_clock), idempotent=True)
            )
            for _ in range(2)
        ]
        await asyncio.sleep(0)
        assert executor.snapshot()["in_flight"] == 2
        start = loop_clock()
        with pytest.raises(BulkheadFull):
            await executor.call("op", blocked, deadline=Deadline(5, loop_clock), idempotent=True)
        assert loop_clock() == start  # refused, not queued
        assert records[-1].outcome == "bulkhead_full"
        gate.set()
        assert await asyncio.gather(*running) == ["done", "done"]
        assert executor.snapshot()["in_flight"] == 0
        assert (
            await executor.call("op", blocked, deadline=Deadline(5, loop_clock), idempotent=True)
            == "done"
        )

    run_virtual(main)


def test_the_slot_is_freed_when_the_call_fails_and_held_across_retries() -> None:
    async def main() -> None:
        executor, _, sleep = make_executor(policy(bulkhead={"max_concurrent": 1}))
        fn = Script((0.01, SourceUnavailable))
        task = asyncio.create_task(
            executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        )
        await asyncio.sleep(0.015)  # inside the first backoff
        assert sleep.sleeps and executor.snapshot()["in_flight"] == 1
        with pytest.raises(BulkheadFull):
            await executor.call("op", fn, deadline=Deadline(5, loop_clock), idempotent=True)
        with pytest.raises(SourceUnavailable):
            await task
        assert executor.snapshot()["in_flight"] == 0

    run_virtual(main)
