"""Circuit breaker over a sliding time window, on failure rate and on slow-call rate.

Hand-written: pybreaker counts consecutive failures only; it has no time window, no
slow-call rate and no bounded half-open probing, which are what keep a voice turn from
waiting on a source that is answering, but too slowly to be useful.

    closed ──(calls >= min_calls and failure rate or slow rate >= threshold)──▶ open
    open ──(open_s elapsed)──▶ half_open
    half_open ──(half_open_probes successful probes)──▶ closed (window cleared)
    half_open ──(a probe fails or is slow)──▶ open again

* Closed: every verdict lands in the window (``window_s`` long, sliced; see _window.py).
  A failure is what the executor calls one (retryable errors and timeouts); an answer
  such as NotFound is a success, since the source is up. A success slower than
  ``slow_call_ms`` counts as slow.
* Half-open: at most ``half_open_probes`` probes at a time; a probe succeeds when it
  answers within ``slow_call_ms``. Calls that are not probes are refused.
* Each permit carries the epoch (transition count) it was issued in: a verdict that comes
  back after the state moved on is ignored, so a slow straggler from the closed state
  cannot re-open a breaker that has since recovered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from integration.policies._window import SlidingCounts
from integration.policies.models import BreakerPolicy

__all__ = ["BreakerState", "CircuitBreaker", "Permit"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class Permit:
    """Leave to make one request; hand it back through ``record`` or ``release``."""

    epoch: int
    probe: bool


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._clock = clock
        self._window = SlidingCounts(policy.window_s, clock, width=3)  # calls, failures, slow
        self._state: BreakerState = "closed"
        self._epoch = 0
        self._changed_at = clock()
        self._opened_at: float | None = None
        self._transitions = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._refused = 0

    @property
    def state(self) -> BreakerState:
        # open -> half_open happens by the passing of time, so it is applied when looked at,
        # dated to when it became due rather than to when someone happened to look
        if self._state == "open" and self._opened_at is not None:
            due = self._opened_at + self.policy.open_s
            if self._clock() >= due:
                self._move("half_open", at=due)
        return self._state

    def acquire(self) -> Permit | None:
        """A permit to call, or None when the breaker refuses."""
        state = self.state
        if state == "closed":
            return Permit(self._epoch, probe=False)
        if state == "half_open" and (
            self._probes_in_flight + self._probe_successes < self.policy.half_open_probes
        ):
            self._probes_in_flight += 1
            return Permit(self._epoch, probe=True)
        self._refused += 1
        return None

    def record(self, permit: Permit, *, ok: bool, latency_s: float) -> None:
        """The verdict on a permitted request: ``ok`` means the source answered."""
        state = self.state
        if permit.epoch != self._epoch:
            return  # issued before the last transition: it says nothing about now
        slow = ok and latency_s * 1000 > self.policy.slow_call_ms
        if state == "closed":
            self._window.add(1, 0 if ok else 1, 1 if slow else 0)
            if self._tripped():
                self._move("open")
        elif state == "half_open" and permit.probe:
            self._probes_in_flight -= 1
            if ok and not slow:
                self._probe_successes += 1
                if self._probe_successes >= self.policy.half_open_probes:
                    self._move("closed")
            else:
                self._move("open")

    def release(self, permit: Permit) -> None:
        """Hand back a permit with no verdict (the request was cancelled or never made)."""
        self.state  # noqa: B018 - apply a due open -> half_open first, which bumps the epoch
        if permit.probe and permit.epoch == self._epoch:
            self._probes_in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        state = self.state
        calls, failures, slow = self._window.totals()
        return {
            "state": state,
            "since": self._changed_at,
            "transitions": self._transitions,
            "calls": calls,
            "failures": failures,
            "slow": slow,
            "failure_rate": round(failures / calls, 3) if calls else 0.0,
            "slow_rate": round(slow / calls, 3) if calls else 0.0,
            "opened_at": self._opened_at,
            "probes_in_flight": self._probes_in_flight,
            "probe_successes": self._probe_successes,
            "refused": self._refused,
        }

    def _tripped(self) -> bool:
        calls, failures, slow = self._window.totals()
        if calls < self.policy.min_calls:
            return False
        return (
            failures / calls >= self.policy.failure_rate
            or slow / calls >= self.policy.slow_call_rate
        )

    def _move(self, state: BreakerState, *, at: float | None = None) -> None:
        now = self._clock() if at is None else at
        self._state = state
        self._epoch += 1
        self._transitions += 1
        self._changed_at = now
        self._probes_in_flight = 0
        self._probe_successes = 0
        if state == "open":
            self._opened_at = now
        elif state == "closed":
            self._window.clear()  # a recovered source starts with a clean record
