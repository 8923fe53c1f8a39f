"""Admission on injected lag samples: refuse while the loop runs late or the limit is
full, and a limit that shrinks under lag and grows while starts fill it."""

from __future__ import annotations

import asyncio
import time

from integration.policies.admission import Admission
from integration.policies.models import AdmissionPolicy

POLICY = AdmissionPolicy(
    max_queue_ms=40,
    target_lag_ms=10,
    initial_limit=10,
    min_limit=4,
    max_limit=20,
    sample_ms=5,
    window_ms=20,
)


def window(admission: Admission, lag_ms: float) -> None:
    for _ in range(4):  # window_ms / sample_ms samples: one adaptation
        admission.observe_lag(lag_ms)


def test_a_late_loop_refuses_new_calls_until_it_catches_up() -> None:
    admission = Admission(POLICY)
    for _ in range(3):
        admission.observe_lag(0.5)
    assert admission.try_admit() is None and admission.in_flight == 1
    admission.observe_lag(55.0)  # one late timer (a garbage-collection pause) is no queue
    assert admission.try_admit() is None and admission.lag_ms == 55.0
    admission.observe_lag(60.0)  # late again: the loop is behind
    assert admission.try_admit() == "queue" and admission.queue_ms == 55.0
    for _ in range(2):  # on time again
        admission.observe_lag(1.0)
    assert admission.try_admit() is None
    assert admission.snapshot()["refused"] == {"queue": 1} and admission.admitted == 3


def test_starts_beyond_the_limit_are_refused_and_done_frees_a_place() -> None:
    admission = Admission(POLICY)
    assert [admission.try_admit() for _ in range(12)] == [None] * 10 + ["limit", "limit"]
    admission.done()
    assert admission.try_admit() is None and admission.in_flight == 10


def test_the_limit_shrinks_under_lag_and_grows_while_starts_fill_it() -> None:
    admission = Admission(POLICY)
    window(admission, 15.0)  # late all the time: 10 -> 7
    assert admission.limit == 7
    window(admission, 30.0)
    window(admission, 30.0)
    window(admission, 30.0)
    assert admission.limit == 4  # never below min_limit
    window(admission, 1.0)
    assert admission.limit == 4  # on time, but nobody used the limit: no reason to grow
    for _ in range(4):
        admission.try_admit()
    window(admission, 1.0)
    assert admission.limit == 5  # full and on time: one step up
    admission.limit = 20
    for _ in range(20):
        admission.try_admit()
    window(admission, 1.0)
    assert admission.limit == 20  # never above max_limit


async def test_the_lag_is_measured_on_the_running_loop() -> None:
    admission = Admission(POLICY.model_copy(update={"sample_ms": 2, "window_ms": 200}))
    admission.start()
    try:
        await asyncio.sleep(0.02)
        time.sleep(0.06)  # noqa: ASYNC251 - blocks the loop on purpose: its timer fires late
        await asyncio.sleep(0.004)
        assert admission.lag_ms > 40
    finally:
        await admission.aclose()


def test_starts_answered_past_their_deadline_shrink_the_limit_and_slow_sources_do_not() -> None:
    admission = Admission(POLICY, deadline_ms=800)
    for took in (300, 790, 795, 799):  # a slow source: lookups end at their deadline
        admission.try_admit()
        admission.done(took)
    window(admission, 1.0)
    assert admission.limit == 10
    for took in (100, 1000, 1100, 1200, 1300):  # answered late: queued in this worker
        admission.try_admit()
        admission.done(took)
    window(admission, 1.0)  # even with the loop's timers on time
    assert admission.limit == 7


async def test_a_start_over_the_limit_waits_briefly_for_a_slot_then_is_refused() -> None:
    now = [0.0]
    admission = Admission(POLICY.model_copy(update={"max_wait_ms": 30}), clock=lambda: now[0])
    for _ in range(10):
        assert admission.try_admit() is None
    waiting = [asyncio.create_task(admission.admit()) for _ in range(3)]
    await asyncio.sleep(0)
    assert admission.snapshot()["waiting"] == 3
    assert admission.try_admit() == "limit"  # no jumping the queue
    now[0] = 0.005
    admission.done(120.0)  # its slot goes to the first in line
    assert await waiting[0] == (None, 5.0) and admission.in_flight == 10
    waiting[1].cancel()  # a client that leaves gives its place up
    (left,) = await asyncio.gather(waiting[1], return_exceptions=True)
    assert isinstance(left, asyncio.CancelledError)
    refused, _ = await waiting[2]  # nothing freed within 30 ms
    assert refused == "limit" and admission.snapshot()["waiting"] == 0
    admission.done()
    assert admission.in_flight == 9 and admission.admitted == 11


async def test_at_most_limit_starts_wait_and_without_max_wait_none_do() -> None:
    admission = Admission(POLICY.model_copy(update={"max_wait_ms": 1000}))
    for _ in range(10):
        admission.try_admit()
    waiting = [asyncio.create_task(admission.admit()) for _ in range(10)]
    await asyncio.sleep(0)
    assert await admission.admit() == ("limit", 0.0)  # the queue is full: refused at once
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert admission.snapshot()["waiting"] == 0 and admission.in_flight == 10
    quick = Admission(POLICY.model_copy(update={"max_wait_ms": 0}), clock=time.monotonic)
    for _ in range(10):
        quick.try_admit()
    assert await quick.admit() == ("limit", 0.0)
