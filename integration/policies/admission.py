"""Admission: refuse a new call at once when this worker could not answer it in time.

A call that waits in a queue is worse than one refused: the caller's deadline is spent
waiting, the answer comes late anyway, and the work done for it delays everyone behind.
So a worker measures its own queueing delay and turns new calls away early and cheaply:

- the loop's lag: a timer due every ``sample_ms`` fires late by however long the loop was
  busy with other work. How late it runs now (the middle of the last three samples, so a
  single garbage-collection pause does not count) is what a request arriving now waits
  before anyone looks at it (``queue_ms``). Above ``max_queue_ms``, refuse. Below it, the
  lookup spends that wait out of its own deadline, so the caller's answer still comes
  within the deadline they asked for.
- a concurrency limit on call starts in flight, adapted to how the starts fare (as
  Netflix's concurrency-limits and Envoy's adaptive concurrency do): every window it
  shrinks by a quarter while the starts of the window were answered after their deadline
  on median (``late_fraction``: a lookup stops at its deadline whatever its sources do, so
  only queueing here makes it late; a slow source alone never shrinks it), or while the
  loop is late all the time (the window's *least* lag above ``target_lag_ms``: a
  garbage-collection pause makes one sample late, overload makes them all late); while
  starts fill it and fare well, it grows by a step.

Only starts are refused: a call already admitted is served to its end, and the limit keeps
the headroom it needs. Everything runs on the event loop's thread, so no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from integration.policies.models import AdmissionPolicy

__all__ = ["Admission", "Refusal"]


class Refusal(str):
    """Why a call was turned away: ``queue`` (the loop runs late) or ``limit``."""


class Admission:
    def __init__(
        self,
        policy: AdmissionPolicy,
        clock: Callable[[], float] = time.monotonic,
        deadline_ms: float = 800.0,
    ) -> None:
        self.policy = policy
        self.deadline_ms = deadline_ms
        self._clock = clock
        self.limit = policy.initial_limit
        self.in_flight = 0
        self.admitted = 0
        self.refused: Counter[str] = Counter()
        samples = max(1, round(policy.window_ms / policy.sample_ms))
        self._lags: deque[float] = deque(maxlen=samples)
        self._since_adapt = 0
        self._busy_in_window = False
        self._used: list[float] = []  # this window's starts: share of the deadline each took
        self._waiters: deque[asyncio.Future[None]] = deque()  # starts waiting for a slot
        self._task: asyncio.Task[None] | None = None

    @property
    def lag_ms(self) -> float:
        """The worst lag of the loop over the last window."""
        return max(self._lags, default=0.0)

    @property
    def queue_ms(self) -> float:
        """How late the loop runs now: the wait of a request arriving now."""
        recent = sorted(list(self._lags)[-3:])
        return recent[len(recent) // 2] if recent else 0.0

    @property
    def steady_lag_ms(self) -> float:
        """The least lag over the last window: how late the loop runs all the time."""
        return min(self._lags, default=0.0)

    def try_admit(self) -> Refusal | None:
        """Admit a call start now (None; call ``done`` when it is answered) or say why not."""
        if self.queue_ms > self.policy.max_queue_ms:
            return self._refuse("queue")
        if self.in_flight >= self.limit or self._waiters:
            return self._refuse("limit")
        self._take()
        return None

    async def admit(self) -> tuple[Refusal | None, float]:
        """Like ``try_admit``, but a start that finds the limit reached may wait up to
        ``max_wait_ms`` for a slot (first come, first served; at most ``limit`` of them wait,
        the rest are refused at once). Returns the refusal or None, and the ms it waited."""
        if self.queue_ms > self.policy.max_queue_ms:
            return self._refuse("queue"), 0.0
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return None, 0.0
        if self.policy.max_wait_ms <= 0 or len(self._waiters) >= self.limit:
            return self._refuse("limit"), 0.0
        began = self._clock()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            async with asyncio.timeout(self.policy.max_wait_ms / 1000):
                await asyncio.shield(slot)
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            self._give_up(slot)
            raise
        waited_ms = (self._clock() - began) * 1000
        if slot.done():  # handed a slot (perhaps just as the wait ran out)
            return None, waited_ms
        self._give_up(slot)
        return self._refuse("limit"), waited_ms

    def done(self, took_ms: float | None = None) -> None:
        """A start answered, in ``took_ms`` (None: it did not get as far as a lookup). Its
        slot goes to the first start waiting for one, if any."""
        if took_ms is not None:
            self._used.append(took_ms / self.deadline_ms)
        while self._waiters and self.in_flight <= self.limit:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)
                self.admitted += 1
                return
        self.in_flight = max(0, self.in_flight - 1)

    def _take(self) -> None:
        self.in_flight += 1
        self.admitted += 1
        if self.in_flight >= self.limit:
            self._busy_in_window = True

    def _give_up(self, slot: asyncio.Future[None]) -> None:
        """A waiter leaves: out of the queue, or, handed a slot it will not use, gives it on."""
        if slot.done():
            self.admitted -= 1
            self.done(None)
        else:
            slot.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(slot)

    def observe_lag(self, lag_ms: float) -> None:
        """One sample of the loop's lag; every window's worth, the limit adapts."""
        self._lags.append(max(0.0, lag_ms))
        self._since_adapt += 1
        if self._since_adapt < (self._lags.maxlen or 1):
            return
        self._since_adapt = 0
        policy = self.policy
        used = sorted(self._used)
        slow = bool(used) and used[len(used) // 2] > policy.late_fraction
        if slow or self.steady_lag_ms > policy.target_lag_ms:
            self.limit = max(policy.min_limit, int(self.limit * 0.75))
        elif self._busy_in_window:
            self.limit = min(policy.max_limit, self.limit + max(1, self.limit // 16))
            while self._waiters and self.in_flight < self.limit:
                slot = self._waiters.popleft()
                if not slot.done():
                    slot.set_result(None)
                    self._take()
        self._busy_in_window = False
        self._used = []

    def snapshot(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "in_flight": self.in_flight,
            "waiting": len(self._waiters),
            "queue_ms": round(self.queue_ms, 2),
            "lag_ms": round(self.lag_ms, 2),
            "steady_lag_ms": round(self.steady_lag_ms, 2),
            "admitted": self.admitted,
            "refused": dict(self.refused),
        }

    # -- the loop's lag, measured ---------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._measure(), name="admission-lag")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _measure(self) -> None:
        period = self.policy.sample_ms / 1000
        while True:
            due = self._clock() + period
            await asyncio.sleep(period)
            self.observe_lag((self._clock() - due) * 1000)

    def _refuse(self, why: str) -> Refusal:
        self.refused[why] += 1
        return Refusal(why)
