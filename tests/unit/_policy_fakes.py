"""Fakes for the policy tests: injected time, scripted attempt functions, executors.

``ManualClock`` serves the synchronous pieces (breaker, budget, cache). The executor mixes
the injected clock and sleep with asyncio's own timers (``asyncio.timeout``, the hedge
delay, aiolimiter), so its tests run on ``VirtualTimeLoop``: whenever every task is
waiting on a timer, the loop jumps its clock straight to the next timer instead of
sleeping. Ordering is exactly what real time would give, and a test of seconds of
backoff finishes in milliseconds. ``clock``/``sleep`` read and wait on that same clock.
"""

from __future__ import annotations

import asyncio
import random
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from integration.policies.executor import Attempt, AttemptRecord, SourceExecutor
from integration.policies.models import SystemPolicy
from tests._support.clocks import ManualClock

__all__ = [
    "ManualClock",
    "Script",
    "SleepLog",
    "VirtualTimeLoop",
    "loop_clock",
    "make_executor",
    "policy",
    "run_virtual",
]

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)  # real I/O (the loop's self-pipe) is still served
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("virtual-time loop: every task waits and no timer is set")
        self._loop.virtual_now += timeout  # nothing to do until the next timer: jump to it
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def loop_clock() -> float:
    return asyncio.get_running_loop().time()


class SleepLog:
    """The injected sleep: records every backoff, then waits it out on the loop's clock."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds)


Outcome = Any  # a value to return, an exception class to raise, or a factory of either


class Script:
    """An attempt function playing ``(delay_s, outcome)`` steps; the last step repeats.

    An exception class is raised as ``cls(system, operation)``; a zero-argument callable
    is called for a fresh outcome (say, a ``SourceRateLimited`` with a Retry-After).
    """

    def __init__(self, *steps: tuple[float, Outcome], system: str = "crm") -> None:
        self.steps = list(steps)
        self.system = system
        self.seen: list[Attempt] = []
        self.started: list[float] = []

    async def __call__(self, attempt: Attempt) -> Any:
        self.seen.append(attempt)
        self.started.append(loop_clock())
        delay, outcome = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        await asyncio.sleep(delay)
        if isinstance(outcome, type) and issubclass(outcome, BaseException):
            raise outcome(self.system, "op")
        if callable(outcome):
            outcome = outcome()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def make_executor(
    policy: SystemPolicy | None = None,
    *,
    seed: int = 7,
    system: str = "crm",
) -> tuple[SourceExecutor, list[AttemptRecord], SleepLog]:
    """An executor on the loop's clock; call inside ``run_virtual``."""
    records: list[AttemptRecord] = []
    sleep = SleepLog()
    executor = SourceExecutor(
        system,
        policy or SystemPolicy(),
        clock=loop_clock,
        sleep=sleep,
        rng=random.Random(seed),
        on_attempt=records.append,
    )
    return executor, records, sleep


def policy(**sections: dict[str, Any]) -> SystemPolicy:
    """A SystemPolicy from partial sections, e.g. ``policy(retry={"max_attempts": 4})``."""
    return SystemPolicy.model_validate(sections)
