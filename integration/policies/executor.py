"""``SourceExecutor``: every call to a source system, under that system's policies.

This docstring is the one place that says what a call goes through, in order.

1. Deadline. Already expired → ``DeadlineExceeded``; nothing is attempted.
2. Breaker. Open (or half-open with all probes out) → ``BreakerOpen``.
3. Bulkhead. ``max_concurrent`` calls already in flight → ``BulkheadFull`` at once; a
   voice turn cannot queue. The slot is held for the whole call, retries and hedge included.
4. Rate limit (if the system has one). Every attempt takes quota; the wait never passes
   the deadline (→ ``DeadlineExceeded``, see ratelimit.py).
5. Attempt. ``Attempt.timeout_s = min(timeout.per_attempt_ms, deadline.remaining())``;
   ``attempt_fn`` runs under ``asyncio.timeout`` and a ``TimeoutError`` becomes
   ``SourceTimeout``. Hedging (policy ``hedge.enabled``, idempotent calls only, once the
   latency tracker has ``min_samples``): if the attempt is still running after the hedge
   delay (hedge.py), a second attempt (``hedge=True``, its own number) starts alongside.
   The first success wins; the other is cancelled and awaited, and recorded with outcome
   ``"cancelled"``. If both fail, the one that failed last is the round's error. A hedge
   needs a breaker permit, a retry-budget token and free quota (it never waits for quota);
   without them there is no hedge.
6. Breaker accounting per attempt. Retryable errors (timeouts, 5xx, 429, malformed) are
   failures. NotFound, Rejected and CredentialsRejected are not: the source answered, so
   they count as answered calls. Answered calls slower than ``slow_call_ms`` count as slow.
   A cancelled attempt, or one that raised something that is not a ``SourceError`` (a bug
   on our side), gives the breaker no verdict.
7. Retry. Only when ``idempotent`` is True, the error is retryable and attempts remain
   (``retry.max_attempts`` counts rounds; a hedge belongs to its round). Then, in order:
   a 429 whose Retry-After exceeds ``max_retry_after_s`` is not retried; the backoff
   (full jitter, or the Retry-After) must end before the deadline; the retry budget must
   allow one more. A refused retry raises the last error with ``retry_suppressed`` set to
   ``"retry_after"``, ``"deadline"`` or ``"budget"`` (see retry.py). The sleep uses the
   injected ``sleep``. After it the retry asks the breaker again (refused → the last error,
   ``retry_suppressed="breaker"``) and the rate limit again (no quota in time → the last
   error, ``retry_suppressed="deadline"``).
8. Success. The value is stored as last-known-good when ``cache_key`` is given (in this
   worker's memory, and noted for the store every worker shares when there is one); the retry
   budget counts one success per call; the latency tracker records each successful
   attempt's own latency (not the call's, so the hedge delay tracks one request).
9. Records. Every attempt, and every refusal (steps 1-4, and a breaker refusal of a retry),
   goes to ``on_attempt`` as an ``AttemptRecord`` carrying the breaker state when the
   attempt started (or when it was refused). A refusal carries the attempt number it would
   have had and ``latency_ms`` spent getting there.

Timing: the injected ``clock`` measures latencies, ages and windows, and the injected
``sleep`` waits out backoffs. Per-attempt timeouts, the hedge delay and rate-limit waits
run on the event loop's own timers (``asyncio.timeout``/``asyncio.wait``, aiolimiter);
in production the loop clock is ``time.monotonic``, the same as the default clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from integration.errors import (
    BreakerOpen,
    BulkheadFull,
    DeadlineExceeded,
    SourceError,
    SourceTimeout,
)
from integration.policies._racing import cancel_all, first_success
from integration.policies.breaker import CircuitBreaker, Permit
from integration.policies.budget import RetryBudget
from integration.policies.bulkhead import Bulkhead
from integration.policies.cache import CachedValue, LastKnownGood
from integration.policies.deadline import Deadline
from integration.policies.hedge import LatencyTracker
from integration.policies.models import PolicyBook, SystemPolicy
from integration.policies.ratelimit import ClientRateLimit
from integration.policies.retry import RetryPlanner, mark_suppressed

__all__ = [
    "Attempt",
    "AttemptRecord",
    "CachedValue",
    "SharedCache",
    "SourceExecutor",
    "build_executors",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


class SharedCache(Protocol):
    """Last good answers every worker shares (``integration.store.last_good``)."""

    def remember(self, system: str, operation: str, key: str, value: Any) -> None: ...
    async def recall(
        self, system: str, operation: str, key: str, max_staleness_s: float
    ) -> CachedValue | None: ...


@dataclass
class Attempt:
    """Handed to each attempt function; the client fills in what the response said."""

    number: int
    timeout_s: float
    hedge: bool = False
    injected_fault: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class AttemptRecord:
    system: str
    operation: str
    call_id: str | None
    attempt: int
    hedge: bool
    started_at: float
    latency_ms: float
    outcome: str  # "ok", "cancelled", "error", or an IntegrationError.reason
    status: int | None
    injected_fault: str | None
    breaker_state: str
    cache_hit: bool = False


@dataclass
class _Call(Generic[T]):
    operation: str
    fn: Callable[[Attempt], Awaitable[T]]
    deadline: Deadline
    idempotent: bool
    call_id: str | None
    numbers: int = field(default=0)

    def next_number(self) -> int:
        self.numbers += 1
        return self.numbers


class SourceExecutor:
    def __init__(
        self,
        system: str,
        policy: SystemPolicy,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
        on_attempt: Callable[[AttemptRecord], None] | None = None,
        shared_cache: SharedCache | None = None,
    ) -> None:
        self.system = system
        self.shared_cache = shared_cache
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._on_attempt = on_attempt
        self.breaker = CircuitBreaker(policy.breaker, clock)
        self.bulkhead = Bulkhead(policy.bulkhead)
        self.budget = RetryBudget(policy.retry_budget, clock)
        self.retry = RetryPlanner(policy.retry, rng)
        self.latency = LatencyTracker(policy.hedge)
        self.cache = LastKnownGood(policy.cache, clock)
        self.rate_limit = (
            ClientRateLimit(system, policy.rate_limit) if policy.rate_limit is not None else None
        )

    async def call(
        self,
        operation: str,
        attempt_fn: Callable[[Attempt], Awaitable[T]],
        *,
        deadline: Deadline,
        idempotent: bool,
        cache_key: str | None = None,
        call_id: str | None = None,
    ) -> T:
        call = _Call(operation, attempt_fn, deadline, idempotent, call_id)
        started = self._clock()
        if deadline.expired:
            late = DeadlineExceeded(self.system, operation, "no time left")
            raise self._refused(call, started, late)
        permit = self.breaker.acquire()
        if permit is None:
            raise self._refused(call, started, BreakerOpen(self.system, operation))
        if not self.bulkhead.try_acquire():
            self.breaker.release(permit)
            raise self._refused(call, started, BulkheadFull(self.system, operation))
        try:
            value = await self._rounds(call, permit)
        finally:
            self.bulkhead.release()
        if cache_key is not None:
            self.cache.store(operation, cache_key, value)
            if self.shared_cache is not None and self.policy.cache.enabled:
                self.shared_cache.remember(self.system, operation, cache_key, value)
        self.budget.record_success()
        return value

    def last_good(self, operation: str, cache_key: str) -> CachedValue | None:
        """This worker's own last good answer (no waiting)."""
        return self.cache.get(operation, cache_key)

    async def recall(self, operation: str, cache_key: str) -> CachedValue | None:
        """The last good answer: this worker's own, else the newest any worker stored."""
        found = self.cache.get(operation, cache_key)
        if found is not None or self.shared_cache is None or not self.policy.cache.enabled:
            return found
        return await self.shared_cache.recall(
            self.system, operation, cache_key, self.policy.cache.max_staleness_s
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "breaker": self.breaker.snapshot(),
            "in_flight": self.bulkhead.in_flight,
            "bulkhead": self.bulkhead.snapshot(),
            "retry_budget": self.budget.snapshot(),
            "latency": self.latency.summary(),
            "cache_entries": len(self.cache),
            "rate_limit": self.rate_limit.snapshot() if self.rate_limit else None,
        }

    async def aclose(self) -> None:
        """Nothing runs in the background (hedge losers are awaited within their call);
        here so the composition root can close every component the same way."""

    async def _rounds(self, call: _Call[T], permit: Permit | None) -> T:
        rounds = 0
        last: SourceError | None = None
        while True:
            rounds += 1
            started = self._clock()
            if permit is None:  # a retry asks the breaker like any new call
                permit = self.breaker.acquire()
                if permit is None:
                    self._refused(call, started, BreakerOpen(self.system, call.operation))
                    assert last is not None
                    raise mark_suppressed(last, "breaker")
            try:
                await self._admit(call)
            except DeadlineExceeded as refusal:
                self.breaker.release(permit)
                self._refused(call, started, refusal)
                if last is None:
                    raise
                raise mark_suppressed(last, "deadline") from None
            except BaseException:  # cancelled while waiting for quota
                self.breaker.release(permit)
                raise
            try:
                return await self._round(call, permit)
            except SourceError as error:
                last = error
            permit = None
            decision = self.retry.decide(
                last,
                attempts_made=rounds,
                idempotent=call.idempotent,
                remaining_s=call.deadline.remaining(),
                spend_budget=self.budget.try_spend,
            )
            if decision.delay_s is None:
                if decision.suppressed is not None:
                    mark_suppressed(last, decision.suppressed)
                raise last
            await self._sleep(decision.delay_s)

    async def _admit(self, call: _Call[Any]) -> None:
        if call.deadline.expired:
            raise DeadlineExceeded(self.system, call.operation, "no time left for an attempt")
        if self.rate_limit is not None:
            await self.rate_limit.acquire(call.deadline, call.operation)
            if call.deadline.expired:
                raise DeadlineExceeded(self.system, call.operation, "quota came at the deadline")

    async def _round(self, call: _Call[T], permit: Permit) -> T:
        first = self._new_attempt(call, hedge=False)
        delay = self.latency.hedge_delay_s(call.operation) if call.idempotent else None
        if delay is None or delay >= first.timeout_s:
            return await self._one(call, first, permit)
        tasks = [asyncio.create_task(self._one(call, first, permit))]
        try:
            done, _ = await asyncio.wait(tasks, timeout=delay)
            if not done:
                hedge_permit = await self._hedge_permit()
                if hedge_permit is not None:
                    hedge = self._new_attempt(call, hedge=True)
                    tasks.append(asyncio.create_task(self._one(call, hedge, hedge_permit)))
            return await first_success(tasks)
        finally:
            await cancel_all(tasks)  # awaited so every attempt is recorded before we return

    async def _hedge_permit(self) -> Permit | None:
        """A hedge is extra load like a retry: it needs a permit, budget and free quota."""
        if self.rate_limit is not None and not self.rate_limit.has_capacity():
            return None  # checked first, taken last: nothing below yields to the loop
        permit = self.breaker.acquire()
        if permit is None:
            return None
        if not self.budget.try_spend():
            self.breaker.release(permit)
            return None
        if self.rate_limit is not None:
            await self.rate_limit.acquire_free()
        return permit

    @property
    def _full_timeout_s(self) -> float:
        return self.policy.timeout.per_attempt_ms / 1000

    def _new_attempt(self, call: _Call[Any], *, hedge: bool) -> Attempt:
        limit = min(self._full_timeout_s, call.deadline.remaining())
        return Attempt(number=call.next_number(), timeout_s=limit, hedge=hedge)

    async def _one(self, call: _Call[T], attempt: Attempt, permit: Permit) -> T:
        started = self._clock()
        state = self.breaker.state
        error: SourceError
        try:
            async with asyncio.timeout(attempt.timeout_s):
                value = await call.fn(attempt)
        except TimeoutError:
            error = SourceTimeout(
                self.system,
                call.operation,
                f"no answer within {attempt.timeout_s * 1000:.0f} ms",
                status=attempt.status,
                injected_fault=attempt.injected_fault,
            )
        except SourceError as exc:
            error = exc
        except BaseException as exc:  # cancelled (a hedge lost, the caller gave up) or our bug
            self.breaker.release(permit)
            outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
            self._record(call, attempt, started, state, outcome)
            raise
        else:
            latency = self._clock() - started
            self.breaker.record(permit, ok=True, latency_s=latency)
            self.latency.record(call.operation, latency)
            self._record(call, attempt, started, state, "ok")
            return value
        if isinstance(error, SourceTimeout) and attempt.timeout_s < self._full_timeout_s:
            # The caller's deadline, not the source, cut this attempt short: no verdict, or a
            # slow source early in a lookup would open the breakers of the healthy ones after it.
            self.breaker.release(permit)
        else:
            self.breaker.record(permit, ok=not error.retryable, latency_s=self._clock() - started)
        self._record(call, attempt, started, state, error.reason, error)
        raise error

    def _record(
        self,
        call: _Call[Any],
        attempt: Attempt,
        started: float,
        state: str,
        outcome: str,
        error: SourceError | None = None,
    ) -> None:
        status = error.status if error is not None and error.status is not None else attempt.status
        fault = (error.injected_fault if error is not None else None) or attempt.injected_fault
        self._emit(
            AttemptRecord(
                self.system,
                call.operation,
                call.call_id,
                attempt.number,
                attempt.hedge,
                started,
                (self._clock() - started) * 1000,
                outcome,
                status,
                fault,
                state,
            )
        )

    def _refused(self, call: _Call[Any], started: float, error: SourceError) -> SourceError:
        self._emit(
            AttemptRecord(
                self.system,
                call.operation,
                call.call_id,
                call.numbers + 1,
                False,
                started,
                (self._clock() - started) * 1000,
                error.reason,
                None,
                None,
                self.breaker.state,
            )
        )
        return error

    def _emit(self, record: AttemptRecord) -> None:
        if self._on_attempt is None:
            return
        try:
            self._on_attempt(record)
        except Exception:  # a broken observer must not fail the call it observes
            log.exception("on_attempt observer failed for %s.%s", record.system, record.operation)


def build_executors(
    book: PolicyBook,
    systems: Iterable[str],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    rng: random.Random,
    on_attempt: Callable[[AttemptRecord], None] | None = None,
    shared_cache: SharedCache | None = None,
) -> dict[str, SourceExecutor]:
    """One executor per system. Each gets its own rng seeded from ``rng``, so one system's
    retries do not shift another's jitter and a seeded run replays system by system."""
    return {
        system: SourceExecutor(
            system,
            book.for_system(system),
            clock=clock,
            sleep=sleep,
            rng=random.Random(rng.getrandbits(64)),
            on_attempt=on_attempt,
            shared_cache=shared_cache,
        )
        for system in systems
    }
