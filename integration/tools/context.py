"""One tool invocation's view of the layer: reads under the turn's deadline that a barge-in
can cancel, writes that go to the outbox and never are, and waiting for a write's verdict.

A tool gets only what tools use (``ToolDeps``, built in the composition root) and the
call as admitted (``ToolStart``): its signature says what it touches.

Reads: every read runs through its system's ``SourceExecutor`` (timeouts, retries,
breaker, bulkhead, cache) with the turn's ``Deadline``, as a task of its own registered
under the call, so a barge-in can cancel exactly the reads of that call. Besides the
executor's own deadline checks, the wait for a read is cut at the deadline, so a tool
answers on time whatever a source does.

Writes: ``OutboxStore.add_effects`` commits the effects before anything is said about
them; from then on they belong to the outbox, so a barge-in or a dropped request cannot
lose or cancel them. Those that wait for nothing are leased to this worker's dispatcher in
the same transaction and handed to it at once (no claim round trip); ``settle`` waits for
an effect's verdict (delivered or dead) until the deadline, woken by the dispatcher after
each verdict, or looking at the store when another process delivers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from integration.clients.calendar import GoogleCalendarClient
from integration.clients.crm import SalesforceClient
from integration.clients.eligibility import EligibilityClient
from integration.errors import SourceTimeout
from integration.lookup.view import CallerView
from integration.outbox.live import LiveDelivery
from integration.outbox.model import EffectRow, EffectSpec
from integration.outbox.store import OutboxStore
from integration.outbox.vault import CardVault, ManualPaymentIn
from integration.policies.breaker import CircuitBreaker
from integration.policies.cache import CachedValue
from integration.policies.deadline import Deadline
from integration.policies.executor import Attempt, SourceExecutor
from integration.tools.admitted import Booking, ToolStart

__all__ = ["CallHistory", "ReadCancelled", "Reads", "ToolContext", "ToolDeps"]

T = TypeVar("T")
# How often to look at the store when no dispatcher of this process can wake us (another
# process delivers), and at most how long to trust the wake-up alone.
_POLL_S = 0.05
_WAKE_CHECK_S = 0.5


class ReadCancelled(Exception):
    """The caller barged in while this tool was reading."""


class Reads(Protocol):
    """Reads under the layer's policies, tracked per call so a barge-in can stop them."""

    def executor(self, system: str) -> SourceExecutor: ...
    def track(self, call_id: str, task: asyncio.Task[Any]) -> None: ...
    def untrack(self, call_id: str, task: asyncio.Task[Any]) -> None: ...
    async def last_good(self, system: str, operation: str, key: str) -> CachedValue | None: ...


class CallHistory(Protocol):
    """What a hand-over reads of the call so far."""

    async def history(self, call_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The transcript and the tool results, in order."""
        ...


@dataclass(frozen=True)
class ToolDeps:
    """Everything the tools use of the layer, and nothing else."""

    crm: SalesforceClient
    eligibility: EligibilityClient
    calendar: GoogleCalendarClient
    vault: CardVault
    outbox: OutboxStore
    calls: CallHistory
    payments_breaker: CircuitBreaker | None
    delivery: LiveDelivery | None  # None: another process delivers
    wall_clock: Callable[[], float]


@dataclass
class ToolContext:
    deps: ToolDeps
    reads: Reads
    call: ToolStart
    deadline: Deadline
    effects: list[int] = field(default_factory=list)
    booking: Booking | None = None  # the call's last booking; a tool that books sets it
    handover: dict[str, Any] | None = None  # set by a hand-over

    def __post_init__(self) -> None:
        if self.booking is None:
            self.booking = self.call.booking
        self._booked = False

    @property
    def call_id(self) -> str:
        return self.call.call_id

    @property
    def seq(self) -> int:
        """This invocation's number within the call: names its effects."""
        return self.call.seq

    @property
    def view(self) -> CallerView:
        return self.call.view

    @property
    def contact(self) -> dict[str, Any]:
        return self.view.contact.value or {}

    @property
    def booked(self) -> Booking | None:
        """The booking this invocation made, if it made one."""
        return self.booking if self._booked else None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.deps.wall_clock(), UTC)

    def name(self, kind: str) -> str:
        """An effect name unique within the call: ``tool_booking_3``."""
        return f"tool_{kind}_{self.seq}"

    def remember_booking(self, booking: Booking) -> None:
        self.booking = booking
        self._booked = True

    # -- reads ----------------------------------------------------------------------------

    async def read(
        self,
        system: str,
        operation: str,
        fn: Callable[[Attempt], Awaitable[T]],
        *,
        cache_key: str | None = None,
    ) -> T:
        """``fn`` under ``system``'s policies and the turn's deadline. Raises the source's
        error (SourceError), or ReadCancelled when the caller barged in."""
        executor = self.reads.executor(system)
        task = asyncio.create_task(
            executor.call(
                operation,
                fn,
                deadline=self.deadline,
                idempotent=True,
                cache_key=cache_key,
                call_id=self.call_id,
            )
        )
        self.reads.track(self.call_id, task)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.deadline.remaining())
        except asyncio.CancelledError:  # the tool itself was cancelled: take the read along
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            self.reads.untrack(self.call_id, task)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise SourceTimeout(system, operation, "the turn's budget ran out")
        if task.cancelled():
            raise ReadCancelled()
        return task.result()

    async def last_good(self, system: str, operation: str, key: str) -> CachedValue | None:
        """The last good answer any worker had for this read, if one is fresh enough."""
        return await self.reads.last_good(system, operation, key)

    # -- writes ---------------------------------------------------------------------------

    async def write(
        self, specs: Sequence[EffectSpec], manual_payment: ManualPaymentIn | None = None
    ) -> list[EffectRow]:
        """Commit ``specs`` to the outbox for this call; this worker's dispatcher takes
        those that wait for nothing at once."""
        delivery = self.deps.delivery
        lease = (delivery.owner, delivery.lease_s) if delivery is not None else None
        rows = await self.deps.outbox.add_effects(
            self.call_id,
            specs,
            phone=self.view.phone or None,
            customer_id=self.view.customer_id,
            manual_payment=manual_payment,
            lease=lease,
        )
        self.effects.extend(row.id for row in rows)
        if delivery is not None:
            delivery.adopt(rows)
        return rows

    async def settle(self, row: EffectRow) -> EffectRow:
        """The effect once delivered or dead, or as it stands when the turn's time is up."""
        delivery = self.deps.delivery
        store = self.deps.outbox
        while True:
            woken = delivery.watch(row.id) if delivery is not None else None
            try:
                known = delivery.latest(row.id) if delivery is not None else None
                latest = known if known is not None else await store.get(row.id)
                if latest is not None:
                    row = latest
                left = self.deadline.remaining()
                if row.status in ("delivered", "dead") or left <= 0:
                    return row
                if woken is None:
                    await asyncio.sleep(min(left, _POLL_S))
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(woken.wait(), min(left, _WAKE_CHECK_S))
            finally:
                if delivery is not None and woken is not None:
                    delivery.unwatch(row.id, woken)

    # -- the call so far --------------------------------------------------------------------

    async def history(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The call's transcript and its tools' results so far."""
        return await self.deps.calls.history(self.call_id)
