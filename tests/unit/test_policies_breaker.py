"""Circuit breaker (breaker.py): time window, failure and slow-call rates, half-open probes."""

from __future__ import annotations

from integration.policies.breaker import CircuitBreaker, Permit
from integration.policies.models import BreakerPolicy
from tests.unit._policy_fakes import ManualClock

POLICY = BreakerPolicy(
    window_s=10,
    min_calls=10,
    failure_rate=0.5,
    slow_call_ms=500,
    slow_call_rate=0.8,
    open_s=5,
    half_open_probes=2,
)
FAST = 0.05
SLOW = 0.6


def _calls(breaker: CircuitBreaker, n: int, *, ok: bool, latency: float = FAST) -> None:
    for _ in range(n):
        permit = breaker.acquire()
        assert permit is not None, "breaker refused a call it should have let through"
        breaker.record(permit, ok=ok, latency_s=latency)


def _open_breaker(clock: ManualClock) -> CircuitBreaker:
    breaker = CircuitBreaker(POLICY, clock)
    _calls(breaker, 10, ok=False)
    assert breaker.state == "open"
    return breaker


def test_opens_exactly_at_the_failure_rate_threshold() -> None:
    breaker = CircuitBreaker(POLICY, ManualClock())
    _calls(breaker, 5, ok=True)
    _calls(breaker, 4, ok=False)
    assert breaker.state == "closed"  # 9 calls: below min_calls, whatever the rate
    _calls(breaker, 1, ok=False)  # 10 calls, 5 failures: 50% == threshold
    assert breaker.state == "open"
    assert breaker.acquire() is None


def test_stays_closed_below_the_failure_rate() -> None:
    breaker = CircuitBreaker(POLICY, ManualClock())
    _calls(breaker, 6, ok=True)
    _calls(breaker, 4, ok=False)
    _calls(breaker, 1, ok=True)
    assert breaker.state == "closed"
    assert breaker.snapshot()["failure_rate"] == round(4 / 11, 3)


def test_no_verdict_below_min_calls_even_at_100_percent_failures() -> None:
    breaker = CircuitBreaker(POLICY, ManualClock())
    _calls(breaker, 9, ok=False)
    assert breaker.state == "closed"


def test_opens_on_slow_call_rate_though_every_call_succeeded() -> None:
    breaker = CircuitBreaker(POLICY, ManualClock())
    _calls(breaker, 2, ok=True)
    _calls(breaker, 7, ok=True, latency=SLOW)
    assert breaker.state == "closed"  # 7 of 9 and under min_calls anyway
    _calls(breaker, 1, ok=True, latency=SLOW)  # 8 of 10 slow: 80% == threshold
    assert breaker.state == "open"
    snap = breaker.snapshot()
    assert (snap["calls"], snap["failures"], snap["slow"]) == (10, 0, 8)


def test_a_call_at_exactly_slow_call_ms_is_not_slow() -> None:
    breaker = CircuitBreaker(POLICY, ManualClock())
    _calls(breaker, 10, ok=True, latency=0.5)
    assert breaker.snapshot()["slow"] == 0


def test_old_failures_age_out_of_the_window() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(POLICY, clock)
    _calls(breaker, 9, ok=False)
    clock.advance(10.0)  # those nine are now older than the window
    assert breaker.snapshot()["calls"] == 0
    _calls(breaker, 1, ok=False)
    _calls(breaker, 9, ok=True)
    assert breaker.state == "closed"


def test_half_open_after_open_s_dated_when_due() -> None:
    clock = ManualClock(1000.0)
    breaker = _open_breaker(clock)
    clock.advance(4.99)
    assert breaker.state == "open"
    assert breaker.acquire() is None
    clock.advance(3.0)  # looked at late: the transition is still dated to when it was due
    assert breaker.state == "half_open"
    snap = breaker.snapshot()
    assert snap["since"] == 1005.0 and snap["opened_at"] == 1000.0 and snap["transitions"] == 2


def test_half_open_limits_concurrent_probes() -> None:
    clock = ManualClock()
    breaker = _open_breaker(clock)
    clock.advance(5.0)
    probes = [breaker.acquire(), breaker.acquire()]
    assert all(p is not None and p.probe for p in probes)
    assert breaker.acquire() is None  # a third probe while two are out
    assert breaker.snapshot()["probes_in_flight"] == 2


def test_closes_after_n_successful_probes_with_a_clean_window() -> None:
    clock = ManualClock()
    breaker = _open_breaker(clock)
    clock.advance(5.0)
    first = breaker.acquire()
    assert first is not None
    breaker.record(first, ok=True, latency_s=FAST)
    assert breaker.state == "half_open"
    second = breaker.acquire()
    assert second is not None
    assert breaker.acquire() is None  # one success + one in flight == half_open_probes
    breaker.record(second, ok=True, latency_s=FAST)
    assert breaker.state == "closed"
    assert breaker.snapshot()["calls"] == 0


def test_a_failed_probe_reopens() -> None:
    clock = ManualClock()
    breaker = _open_breaker(clock)
    clock.advance(5.0)
    probe = breaker.acquire()
    assert probe is not None
    breaker.record(probe, ok=False, latency_s=FAST)
    assert breaker.state == "open"
    assert breaker.snapshot()["opened_at"] == clock.now
    clock.advance(4.0)
    assert breaker.state == "open"  # a fresh open_s from the failed probe


def test_a_slow_probe_counts_as_failed() -> None:
    clock = ManualClock()
    breaker = _open_breaker(clock)
    clock.advance(5.0)
    probe = breaker.acquire()
    assert probe is not None
    breaker.record(probe, ok=True, latency_s=SLOW)
    assert breaker.state == "open"


def test_released_probe_frees_its_slot_without_a_verdict() -> None:
    clock = ManualClock()
    breaker = _open_breaker(clock)
    clock.advance(5.0)
    a, b = breaker.acquire(), breaker.acquire()
    assert a is not None and b is not None
    breaker.release(a)
    assert breaker.state == "half_open"
    assert breaker.acquire() is not None


def test_a_straggler_from_before_the_transition_is_ignored() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(POLICY, clock)
    straggler = breaker.acquire()
    assert straggler is not None
    _calls(breaker, 10, ok=False)
    clock.advance(5.0)
    for _ in range(2):
        probe = breaker.acquire()
        assert probe is not None
        breaker.record(probe, ok=True, latency_s=FAST)
    assert breaker.state == "closed"
    breaker.record(straggler, ok=False, latency_s=FAST)  # issued two epochs ago
    assert breaker.snapshot()["calls"] == 0
    breaker.release(Permit(epoch=0, probe=True))  # and a stale probe release is harmless
    assert breaker.snapshot()["probes_in_flight"] == 0
