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
