"""The dispatcher: takes due effects from the outbox and delivers each one to its system.

What a delivery goes through, in order:

1. Claim. Effects are claimed under a lease (``OutboxStore.claim``), at most as many per
   system as that system's bulkhead allows minus those already in flight here, and none
   for a system whose breaker is open: an outage is waited out, not hammered. Effects
   written by this worker (a tool's write, a call's end) that wait for nothing come
   leased to it already and are ``adopt``ed at once, without a claim.
2. Dependencies. A claimed effect's dependencies are already delivered (the store only
   hands out effects whose dependencies are); ``${name.field}`` placeholders in its
   payload are filled from their results.
3. Attempt. One request under the target system's policy (timeout, breaker, bulkhead,
   rate limit) with the effect's deterministic idempotency key, so a request sent twice
   (a crash after sending, a lease taken over) is applied once by the vendor.
4. Verdict, written back fenced on the lease (a dispatcher that lost its lease cannot
   overwrite the new owner's verdict):
   - success: delivered, with the result dependents may quote;
   - refused before reaching the vendor (breaker open, bulkhead full, no quota in time):
     put back without counting an attempt, looked at again after ``breaker_wait_s``;
   - rejected (4xx that will not change: a taken slot, a declined card, an unknown lead):
     a dead letter at once, with the vendor's words;
   - anything else (timeouts, 5xx, 429, expired credentials, a bug of ours): retried
     after exponential backoff with full jitter, or exactly the vendor's Retry-After;
     after ``retry.max_attempts`` attempts, or past ``max_age_s``, a dead letter.
   A dead effect takes every effect that depends on it into the dead letters too
   (``dependency_dead``); replaying it brings them back.

Nothing is dropped: an effect is pending, delivered or dead, and every change is a row
in the store before anything is said about it. A live call's tool that waits for its own
effect ``watch``es it: the event is set after each verdict on that effect is stored, and
``latest`` has the effect as that verdict left it.

Several workers may share one store. Each dispatcher is named for its worker; leases held
by a worker that died (``find_dead``) are handed back every ``reap_every_s``, so its
effects are delivered by the others without waiting for the leases to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from integration.errors import (
    BreakerOpen,
    BulkheadFull,
    DeadlineExceeded,
    NotFound,
    Rejected,
    SourceError,
    SourceRateLimited,
)
from integration.outbox.deliveries import AfterDelivery, Delivery, DeliveryContext
from integration.outbox.metrics import OutboxMetrics
from integration.outbox.model import EffectRow, resolve_placeholders
from integration.outbox.store import OutboxStore
from integration.policies.deadline import Deadline
from integration.policies.executor import SourceExecutor
from integration.policies.models import OutboxPolicy
from integration.policies.retry import BackoffSchedule

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

# Refusals on our side of the wire: the vendor never saw the request.
_NOT_ATTEMPTED = (BreakerOpen, BulkheadFull, DeadlineExceeded)
# Answers that another attempt would only repeat.
_REJECTED = (Rejected, NotFound)
# How long a woken dispatcher waits for more wake-ups before it claims.
_COALESCE_S = 0.005
# Time for the rate limiter's queue on top of the attempt's own timeout.
_QUOTA_HEADROOM_S = 1.0
# Effects whose latest state this dispatcher remembers for the tools waiting on them.
_KNOWN = 4096

EventCallback = Callable[..., Any]


class Dispatcher:
    def __init__(
        self,
        store: OutboxStore,
        *,
        deliveries: Mapping[str, Delivery],
        after_delivery: Mapping[str, AfterDelivery] | None = None,
        context: DeliveryContext,
        executors: Mapping[str, SourceExecutor],
        policy: OutboxPolicy,
        owner: str,
        rng: random.Random,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_event: EventCallback | None = None,
        metrics: OutboxMetrics | None = None,
        find_dead: Callable[[], Awaitable[list[str]]] | None = None,
        forget: Callable[[str], Awaitable[None]] | None = None,
        reap_every_s: float = 2.0,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.after_delivery = after_delivery or {}
        self.context = context
        self.executors = executors
        self.policy = policy
        self.owner = owner
        self.backoff = BackoffSchedule(policy.retry, rng)
        self._clock = clock
        self._wall = wall_clock
        self._on_event = on_event
        self._metrics = metrics
        self.in_flight: dict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self.delivered = 0
        self.failed_pumps = 0
        # (seconds from the call's end to applied, attempts) of recent deliveries
        self._recent: deque[tuple[float, int]] = deque(maxlen=2000)
        self._watchers: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._held: set[int] = set()  # effects being delivered here now
        self._waiting_calls: OrderedDict[str, None] = OrderedDict()  # see _note_waiting
        self._backlog = False  # the last claim took all it could: more may be due
        self._known: OrderedDict[int, EffectRow] = OrderedDict()
        self._find_dead = find_dead
        self._forget = forget
        self._reap_every_s = reap_every_s
        self._next_reap = 0.0
        self.reaped = 0  # leases taken back from workers that died

    # -- lifecycle --------------------------------------------------------------------

    @property
    def lease_s(self) -> float:
        return self.policy.lease_s

    async def start(self) -> None:
        """Take back leases an earlier run of this owner left (it crashed mid-delivery)
        and those of workers that died, then deliver in the background until ``aclose``."""
        if self._runner is not None:
            return
        released = await self.store.release_leases(self.owner)
        if released:
            log.info("took back %d effects leased before a restart", released)
        await self.reap()
        self._stopping = False
        self._wake = asyncio.Event()
        self._runner = asyncio.create_task(self._run(), name=f"outbox-dispatcher-{self.owner}")

    def wake(self) -> None:
        """Look for due effects now (a call just ended, or a delivery made others due)."""
        if self._wake is not None:
            self._wake.set()

    def watch(self, effect_id: int) -> asyncio.Event:
        """An event set when the next verdict on ``effect_id`` is in the store (delivered,
        retry, put back, dead). Register before reading the effect, so no verdict falls in
        between; ``unwatch`` when done."""
        event = asyncio.Event()
        self._watchers[effect_id].add(event)
        return event

    def unwatch(self, effect_id: int, event: asyncio.Event) -> None:
        waiting = self._watchers.get(effect_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._watchers[effect_id]

    def latest(self, effect_id: int) -> EffectRow | None:
        """The effect as this dispatcher last left it (None: not one it handled lately)."""
        return self._known.get(effect_id)

    def adopt(self, rows: Sequence[EffectRow]) -> None:
        """Deliver now the effects among ``rows`` that were written leased to this
        dispatcher (the rest are claimed as usual once they are due)."""
        if self._stopping or self._runner is None:
            return  # the leases run out, and whoever claims next delivers them
        for row in rows:
            if row.depends_on and row.status == "pending":
                self._note_waiting(row.call_id)
            if row.status == "pending" and row.lease_owner == self.owner:
                self._start(row)

    def _note_waiting(self, call_id: str) -> None:
        """This call has effects waiting for others: each of its deliveries may free one."""
        self._waiting_calls[call_id] = None
        while len(self._waiting_calls) > _KNOWN:
            self._waiting_calls.popitem(last=False)

    def _remember(self, row: EffectRow) -> None:
        self._known[row.id] = row
        self._known.move_to_end(row.id)
        while len(self._known) > _KNOWN:
            self._known.popitem(last=False)

    def _verdict(self, row: EffectRow | None, *effect_ids: int) -> None:
        if row is not None:
            self._remember(row)
            effect_ids = (row.id, *effect_ids)
        for effect_id in effect_ids:
            if row is None or effect_id != row.id:
                self._known.pop(effect_id, None)  # changed by a cascade: read it again
            for event in self._watchers.get(effect_id, ()):
                event.set()

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Stop claiming, give deliveries in flight ``grace_s`` to finish, then cancel the
        rest and hand their leases back so the next start picks them up at once."""
        self._stopping = True
        self.wake()
        if self._runner is not None:
            await self._runner
            self._runner = None
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.store.release_leases(self.owner)

    async def reap(self) -> int:
        """Hand back the leases of workers that died; how many effects were freed."""
        if self._find_dead is None:
            return 0
        freed = 0
        for worker in await self._find_dead():
            released = await self.store.release_leases(worker)
            if released:
                log.warning("took back %d effects leased by %s, which died", released, worker)
            freed += released
            if self._forget is not None:
                await self._forget(worker)
        self.reaped += freed
        return freed

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                if self._find_dead is not None and self._clock() >= self._next_reap:
                    self._next_reap = self._clock() + self._reap_every_s
                    if await self.reap():
                        self.wake()
                await self.pump()
            except Exception:  # the store is locked or gone for a moment: try again later
                self.failed_pumps += 1
                log.exception("outbox pump failed; retrying in %.0f ms", self.policy.poll_ms)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.policy.poll_ms / 1000)
                # Woken: let the other deliveries finishing now wake it too, so one claim
                # serves them all (hundreds of deliveries a second, not hundreds of claims).
                await asyncio.sleep(_COALESCE_S)
            self._wake.clear()

    def summary(self) -> dict[str, Any]:
        """Recent deliveries by this dispatcher: latency percentiles and attempts each."""
        recent = list(self._recent)
        latencies = sorted(latency for latency, _ in recent)

        def pct(q: float) -> float | None:
            if not latencies:
                return None
            return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

        attempts = sum(n for _, n in recent) / len(recent) if recent else None
        return {
            "delivery_latency_ms": {"p50": pct(0.5), "p95": pct(0.95)},
            "attempts_per_delivery": round(attempts, 3) if attempts is not None else None,
            "dispatcher": {
                "owner": self.owner,
                "running": self._runner is not None,
                "in_flight": {s: n for s, n in self.in_flight.items() if n},
                "delivered": self.delivered,
            },
        }

    # -- claiming ---------------------------------------------------------------------

    def free_slots(self) -> dict[str, int]:
        """Per system, how many more deliveries may start now (0 while its breaker is open)."""
        free: dict[str, int] = {}
        for system, executor in self.executors.items():
            if executor.breaker.state == "open":
                continue
            room = executor.policy.bulkhead.max_concurrent - self.in_flight[system]
            if room > 0:
                free[system] = room
        return free

    async def pump(self) -> int:
        """Claim what is due and start delivering it; the number of deliveries started.
        (No count of what is due first: the claim's own selects are that count, and most
        effects never need a claim: they are adopted as they are written.)"""
        free = self.free_slots()
        if not free:
            self._backlog = True
            return 0
        rows = await self.store.claim(self.owner, limits=free, lease_s=self.policy.lease_s)
        by_system: dict[str, int] = defaultdict(int)
        started = 0
        for row in rows:
            by_system[row.system] += 1
            started += self._start(row)
        self._backlog = any(by_system[s] >= n for s, n in free.items())
        return started

    def _start(self, row: EffectRow) -> bool:
        if row.id in self._held:
            return False
        self._held.add(row.id)
        self._remember(row)
        self.in_flight[row.system] += 1
        task = asyncio.create_task(self._deliver(row), name=f"deliver-{row.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(
        self, timeout_s: float = 30.0, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        """Deliver until nothing is due or in flight (tests and tools; the loop does this
        on its own). Effects waiting for a backoff are not waited for."""
        pause = sleep or asyncio.sleep
        ends = self._clock() + timeout_s
        while self._clock() < ends:
            started = await self.pump()
            if self._tasks:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
            elif not started:
                return
            await pause(0)
        raise TimeoutError(f"outbox still busy after {timeout_s} s")

    # -- delivering -------------------------------------------------------------------

    async def _deliver(self, row: EffectRow) -> None:
        try:
            await self._attempt(row)
        except asyncio.CancelledError:
            raise
        except Exception:  # our own bookkeeping failed; the lease runs out and it is retried
            log.exception("delivering effect %d (%s) failed in the dispatcher", row.id, row.kind)
        finally:
            self.in_flight[row.system] -= 1
            self._held.discard(row.id)
            # Claim again only when it can find something: a slot freed while effects
            # were left behind, or a delivery some effect of its call was waiting for.
            if self._backlog or row.call_id in self._waiting_calls:
                self.wake()

    async def _attempt(self, row: EffectRow) -> None:
        now = self._wall()
        if now - row.created_at > self.policy.max_age_s:
            await self._dead(
                row, "expired", row.last_error or "not delivered in time", row.attempts, sent=False
            )
            return
        handler = self.deliveries.get(row.kind)
        executor = self.executors.get(row.system)
        if handler is None or executor is None:
            await self._dead(
                row,
                "rejected",
                f"no delivery for {row.kind!r} to {row.system!r}",
                row.attempts,
                sent=False,
            )
            return
        try:
            payload = row.payload
            if row.depends_on:
                results = await self.store.results_for(row.call_id, row.depends_on)
                payload = resolve_placeholders(payload, results)
        except KeyError as exc:
            await self._dead(
                row, "rejected", f"unresolved placeholder {exc}", row.attempts, sent=False
            )
            return
        timeout_s = executor.policy.timeout.per_attempt_ms / 1000 + _QUOTA_HEADROOM_S
        started = self._clock()
        try:
            result = await executor.call(
                row.kind,
                lambda attempt: handler(self.context, attempt, payload, row.idempotency_key),
                deadline=Deadline(timeout_s, self._clock),
                idempotent=False,  # the outbox retries across time, not within an attempt
                call_id=row.call_id,
            )
        except _NOT_ATTEMPTED as refused:
            await self._put_back(row, refused)
        except _REJECTED as rejected:
            await self._dead(row, "rejected", _describe(rejected), row.attempts + 1)
        except SourceError as error:
            await self._retry_or_dead(row, error, _describe(error))
        except Exception as bug:  # a delivery that raised something unexpected: ours
            log.exception("delivery %s of effect %d raised", row.kind, row.id)
            await self._retry_or_dead(row, bug, f"internal: {type(bug).__name__}: {bug}")
        else:
            await self._delivered(row, result, (self._clock() - started) * 1000)

    async def _delivered(self, row: EffectRow, result: dict[str, Any], latency_ms: float) -> None:
        after = self.after_delivery.get(row.kind)
        if not await self.store.mark_delivered(row, self.owner, result, after):
            log.warning("effect %d was delivered after its lease moved on", row.id)
            return
        attempts = row.attempts + 1
        self._verdict(
            replace(
                row,
                status="delivered",
                attempts=attempts,
                result=result,
                delivered_at=self._wall(),
                next_attempt_at=None,
                lease_owner=None,
                lease_until=None,
            )
        )
        self.delivered += 1
        self._recent.append((self._wall() - row.created_at, attempts))
        if self._metrics is not None:
            self._metrics.observe_delivery(row.system, self._wall() - row.created_at, attempts)
        self._emit(row, "ok", attempts, latency_ms, status="delivered")

    async def _put_back(self, row: EffectRow, refused: SourceError) -> None:
        next_at = self._wall() + self.policy.breaker_wait_s
        error = _describe(refused)
        await self.store.mark_retry(
            row.id, self.owner, error=error, next_attempt_at=next_at, count_attempt=False
        )
        self._verdict(
            replace(
                row, last_error=error, next_attempt_at=next_at, lease_owner=None, lease_until=None
            )
        )
        self._emit(row, refused.reason, row.attempts, None, status="waiting")

    async def _retry_or_dead(self, row: EffectRow, error: BaseException, message: str) -> None:
        attempts = row.attempts + 1
        reason = error.reason if isinstance(error, SourceError) else "internal"
        if self._metrics is not None:
            self._metrics.observe_retry(row.system, reason)
        if attempts >= self.policy.retry.max_attempts:
            await self._dead(row, "max_attempts", message, attempts)
            return
        delay = self.backoff.delay_s(attempts, error)
        if delay is None and isinstance(error, SourceRateLimited):
            # Longer than we like to wait, but the vendor said so: wait the most we allow.
            delay = self.policy.retry.max_retry_after_s
        next_at = self._wall() + (delay or 0.0)
        if next_at - row.created_at > self.policy.max_age_s:
            await self._dead(row, "expired", message, attempts)
            return
        await self.store.mark_retry(row.id, self.owner, error=message, next_attempt_at=next_at)
        self._verdict(
            replace(
                row,
                attempts=attempts,
                last_error=message,
                next_attempt_at=next_at,
                lease_owner=None,
                lease_until=None,
            )
        )
        self._emit(
            row, reason, attempts, None, status="retry", next_attempt_in_s=round(delay or 0.0, 3)
        )

    async def _dead(
        self, row: EffectRow, reason: str, message: str, attempts: int, *, sent: bool = True
    ) -> None:
        """``sent`` False: the verdict came before any request (expired, undeliverable)."""
        dead = await self.store.mark_dead(
            row.id, self.owner, error=message, reason=reason, count_attempt=sent
        )
        if not dead:
            return
        self._verdict(
            replace(
                row,
                status="dead",
                dead_reason=reason,
                last_error=message,
                attempts=attempts if sent else row.attempts,
                next_attempt_at=None,
                lease_owner=None,
                lease_until=None,
            ),
            *dead,
        )
        log.warning(
            "effect %d (%s of call %s) is a dead letter: %s: %s",
            row.id,
            row.kind,
            row.call_id,
            reason,
            message,
        )
        self._emit(
            row,
            reason,
            attempts,
            None,
            status="dead",
            error=message,
            cascaded=[i for i in dead if i != row.id],
        )

    def _emit(
        self, row: EffectRow, outcome: str, attempts: int, latency_ms: float | None, **detail: Any
    ) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(
                "outbox",
                call_id=row.call_id,
                system=row.system,
                operation=row.kind,
                attempt=attempts,
                latency_ms=latency_ms,
                outcome=outcome,
                detail={"effect_id": row.id, "effect": row.name, **detail},
            )
        except Exception:
            log.exception("outbox event observer failed")


def _describe(error: BaseException) -> str:
    if isinstance(error, SourceError):
        return f"{error.reason}: {error}"
    return f"{type(error).__name__}: {error}"
