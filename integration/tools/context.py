"""One tool invocation's view of the layer: reads under the turn's deadline that a barge-in
can cancel, writes that go to the outbox and never are, and waiting for a write's verdict.

Reads: every read runs through its system's ``SourceExecutor`` (timeouts, retries,
breaker, bulkhead, cache) with the turn's ``Deadline``, as a task of its own registered
under the call, so ``POST /calls/{id}/barge-in`` can cancel exactly the reads of that call.
Besides the executor's own deadline checks, the wait for a read is cut at the deadline, so
a tool answers on time whatever a source does.

Writes: ``OutboxStore.add_effects`` commits the effects before anything is said about
them; from then on they belong to the dispatcher, so a barge-in or a dropped request
cannot lose or cancel them. ``settle`` waits for an effect's verdict (delivered or dead)
until the deadline, woken by the dispatcher's ``watch`` event after each verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from integration.errors import SourceTimeout
from integration.lookup.view import CallerView
from integration.outbox.model import EffectRow, EffectSpec
from integration.outbox.vault import ManualPaymentIn
from integration.policies.deadline import Deadline
from integration.policies.executor import Attempt

if TYPE_CHECKING:
    from integration.bootstrap import Integration
    from integration.service.calls import CallRecord
    from integration.tools.runtime import ToolRuntime

__all__ = ["ReadCancelled", "ToolContext"]

T = TypeVar("T")
# How often to look at the store when no in-process dispatcher can wake us (another
# process delivers), and at most how long to trust the wake-up alone.
_POLL_S = 0.05
_WAKE_CHECK_S = 0.5


class ReadCancelled(Exception):
    """The caller barged in while this tool was reading."""


@dataclass
class ToolContext:
    runtime: ToolRuntime
    call_id: str
    record: CallRecord
    deadline: Deadline
    seq: int  # this invocation's number within the call: names its effects
    effects: list[int] = field(default_factory=list)

    @property
    def integration(self) -> Integration:
        return self.runtime.integration

    @property
    def view(self) -> CallerView:
        return self.record.view

    @property
    def contact(self) -> dict[str, Any]:
        return self.view.contact.value or {}

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.integration.wall_clock(), UTC)

    def name(self, kind: str) -> str:
        """An effect name unique within the call: ``tool_booking_3``."""
        return f"tool_{kind}_{self.seq}"

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
        executor = self.runtime.read_executor(system)
        task = asyncio.create_task(
            executor.call(
                operation, fn, deadline=self.deadline, idempotent=True, cache_key=cache_key,
                call_id=self.call_id,
            )
        )  # fmt: skip
        reads = self.runtime.reads_of(self.call_id)
        reads.add(task)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.deadline.remaining())
        except asyncio.CancelledError:  # the tool itself was cancelled: take the read along
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            reads.discard(task)
            self.runtime.forget_reads(self.call_id)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise SourceTimeout(system, operation, "the turn's budget ran out")
        if task.cancelled():
            raise ReadCancelled()
        return task.result()

    # -- writes ---------------------------------------------------------------------------

    async def write(
        self, specs: Sequence[EffectSpec], manual_payment: ManualPaymentIn | None = None
    ) -> list[EffectRow]:
        """Commit ``specs`` to the outbox for this call and wake the dispatcher."""
        rows = await self.integration.outbox.add_effects(
            self.call_id, specs, phone=self.view.phone or None,
            customer_id=self.view.customer_id, manual_payment=manual_payment,
        )  # fmt: skip
        self.effects.extend(row.id for row in rows)
        self.integration.wake_dispatcher()
        return rows

    async def settle(self, row: EffectRow) -> EffectRow:
        """The effect once delivered or dead, or as it stands when the turn's time is up."""
        dispatcher = self.integration.dispatcher
        store = self.integration.outbox
        while True:
            woken = dispatcher.watch(row.id) if dispatcher is not None else None
            try:
                latest = await store.get(row.id)
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
                if dispatcher is not None and woken is not None:
                    dispatcher.unwatch(row.id, woken)
