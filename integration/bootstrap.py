"""The composition root: the one place the integration layer is assembled from settings.

    build(settings, *, transport=None, clock=None, sleep=None) -> Integration

Nothing is opened here: transports open their connections on first use inside the
running loop, and ``Integration.start()`` opens the store. Tests pass a transport, a
clock and a sleep; everything else comes from ``settings``. Each use case gets the few
parts it uses (``start_deps``, ``end_deps``, ``vapi_deps``, the tools' ``ToolDeps``),
never this whole object.

What each worker keeps to itself, and why (everything else is in the store):
- breakers, bulkheads, retry budgets and hedge latencies: each worker's view of a source
  is a fair sample of it, and counting every attempt in the store would cost a write per
  attempt; a failing source opens every worker's breaker within its window;
- the in-memory copy of the last good answers (the store holds the shared one), and the
  copy of a whole-list read kept fresh (the caller lists: one read per worker per
  ``cache.fresh_s`` is cheap, and a store read per call would cost more than it saves);
- vendor quotas: each worker takes an equal share (``PolicyBook.shared_by``);
- reads in flight (a barge-in on another worker reaches them through the call's row);
- the recent-events ring, used only when events are not stored (tests).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from integration.access import Access
from integration.calls.end import EndCallDeps
from integration.calls.start import StartCallDeps
from integration.calls.store import CallStore
from integration.calls.vapi import VapiDeps
from integration.clients import LayerClients, build_clients
from integration.clients.writes import WriteClients, build_write_clients
from integration.events.metrics import Metrics
from integration.events.sink import EventSink
from integration.events.store import EventStore
from integration.events.stream import EventStream
from integration.lookup.caller_lookup import CUSTOMER_STEPS, STEPS, CallerLookup
from integration.lookup.recommend import ESSENTIAL
from integration.outbox.deliveries import (
    AFTER_DELIVERY,
    DELIVERIES,
    SYSTEM_OF_KIND,
    DeliveryContext,
)
from integration.outbox.dispatcher import Dispatcher
from integration.outbox.metrics import OutboxMetrics
from integration.outbox.payment_events import PaymentEvents
from integration.outbox.receipts import MessageReceipts
from integration.outbox.store import OutboxStore
from integration.outbox.vault import CardVault
from integration.policies.admission import Admission
from integration.policies.executor import SourceExecutor, build_executors
from integration.policies.models import PolicyBook
from integration.settings import IntegrationSettings
from integration.store.credentials import SharedCredential
from integration.store.database import Database
from integration.store.last_good import SharedLastGood
from integration.store.scorecards import Scorecards
from integration.store.workers import WorkerRegistry, default_worker_name
from integration.systemmap.model import SystemMap, check_caller_lookup, load_system_map
from integration.tools import ToolRuntime
from integration.tools.context import ToolDeps
from integration.transports import make_transport
from integration.transports.base import Transport

__all__ = ["Integration", "build"]


@dataclass
class Integration:
    settings: IntegrationSettings
    worker: str
    policies: PolicyBook
    system_map: SystemMap
    transport: Transport
    clients: LayerClients
    executors: dict[str, SourceExecutor]
    sink: EventSink
    lookup: CallerLookup
    store: Database
    event_db: Database
    calls: CallStore
    last_good: SharedLastGood
    crm_token: SharedCredential
    outbox: OutboxStore
    receipts: MessageReceipts
    payment_events: PaymentEvents
    vault: CardVault
    write_clients: WriteClients
    write_executors: dict[str, SourceExecutor]
    outbox_metrics: OutboxMetrics
    dispatcher: Dispatcher | None
    tools: ToolRuntime
    admission: Admission
    access: Access
    workers: WorkerRegistry
    scorecards: Scorecards
    wall_clock: Callable[[], float]
    started: bool = field(default=False)

    async def start(self) -> None:
        await self.store.start()
        await self.calls.start()
        await self.last_good.start()
        await self.crm_token.start()
        await self.scorecards.start()
        await self.outbox.start()
        await self.sink.start()
        await self.workers.start()
        if self.dispatcher is not None:
            await self.dispatcher.start()
        self.admission.start()
        self.started = True

    async def aclose(self) -> None:
        await self.admission.aclose()
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        await self.tools.aclose()
        for executor in (*self.executors.values(), *self.write_executors.values()):
            await executor.aclose()
        await self.clients.aclose()
        await self.transport.aclose()
        await self.last_good.aclose()
        await self.sink.aclose()
        await self.workers.aclose()
        if self.event_db is not self.store:
            await self.event_db.aclose()
        await self.store.aclose()

    @property
    def start_deps(self) -> StartCallDeps:
        return StartCallDeps(self.lookup, self.calls, self.sink)

    @property
    def end_deps(self) -> EndCallDeps:
        return EndCallDeps(self.calls, self.outbox, self.vault, self.dispatcher, self.sink)

    @property
    def vapi_deps(self) -> VapiDeps:
        return VapiDeps(self.lookup, self.calls, self.tools, self.sink, self.admission)

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def delivery_summary(self) -> dict[str, Any]:
        if self.dispatcher is None:
            return {"dispatcher": None}
        return self.dispatcher.summary()

    def snapshot(self) -> dict[str, Any]:
        """What this worker publishes with its heartbeat: its breakers and its dispatcher."""
        return {
            "systems": {name: ex.snapshot() for name, ex in self.executors.items()},
            "write_breakers": {name: ex.breaker.state for name, ex in self.write_executors.items()},
            "delivery": self.delivery_summary(),
            "admission": self.admission.snapshot(),
            "store": {"writes": self.store.batched, "write_transactions": self.store.batches},
        }


def build(
    settings: IntegrationSettings,
    *,
    transport: Transport | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    wall_clock: Callable[[], float] | None = None,
    durable_events: bool = True,
) -> Integration:
    """``durable_events=False`` keeps events in memory only (the calls and the outbox are
    always in the store: point ``store_url`` at ``sqlite://`` for a throwaway one)."""
    clock = clock or time.monotonic
    wall_clock = wall_clock or time.time
    sleep = sleep or asyncio.sleep
    worker = settings.worker_name or default_worker_name()
    system_map, book = load_system_map(settings.policies_file)
    policies = book.shared_by(settings.workers)
    check_caller_lookup(
        system_map,
        {name: system for name, (system, _) in STEPS.items()},
        set(STEPS) - set(CUSTOMER_STEPS),
        set(ESSENTIAL),
    )
    transport = transport or make_transport(settings.transport, settings.max_connections)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    access = Access.of(settings)
    store = Database(
        settings.resolved_store_url, synchronous=settings.outbox_synchronous, name="layer"
    )
    event_db = (
        store
        if settings.resolved_events_url == settings.resolved_store_url
        else Database(settings.resolved_events_url, synchronous="NORMAL", threads=1, name="events")
    )
    sink = EventSink(
        EventStream(settings.events_memory),
        Metrics(),
        EventStore(event_db) if durable_events else None,
    )
    last_good = SharedLastGood(store, wall_clock=wall_clock)
    systems = sorted({system for system, _ in STEPS.values()})
    executors = build_executors(
        policies,
        systems,
        clock=clock,
        sleep=sleep,
        rng=random.Random(settings.seed),
        on_attempt=sink.record_attempt,
        shared_cache=last_good,
    )
    crm_token = SharedCredential(store, "crm_oauth", worker, wall_clock=wall_clock)
    database_bulkhead = policies.for_system("database").bulkhead.max_concurrent
    gateways = system_map.gateways()  # the systems reached through middleware
    clients = build_clients(
        settings,
        transport,
        clock=clock,
        database_threads=database_bulkhead,
        crm_token=crm_token,
        gateways=gateways,
    )
    lookup = CallerLookup(
        clients,
        executors,
        default_deadline_ms=settings.lookup_deadline_ms,
        clock=clock,
        on_cache_hit=sink.record_cache_hit,
        gateways=gateways,
    )
    write_executors = build_executors(
        policies,
        sorted(set(SYSTEM_OF_KIND.values())),
        clock=clock,
        sleep=sleep,
        rng=random.Random(settings.seed + 1),
        on_attempt=sink.record_attempt,
    )
    write_clients = build_write_clients(settings, transport, clients.crm, gateways)
    vault = CardVault.load(
        settings.card_key.get_secret_value() if settings.card_key else None,
        settings.state_dir / "card.key",
    )
    outbox = OutboxStore(store, wall_clock=wall_clock)
    outbox_metrics = OutboxMetrics(sink.metrics.registry)
    calls = CallStore(
        store,
        wall_clock=wall_clock,
        worker=worker,
        transcript_chars=settings.max_transcript_chars,
    )
    registry = WorkerRegistry(store, worker, wall_clock=wall_clock)
    registry.on_forget = lambda gone: Metrics.process_gone(gone.pid)
    dispatcher = (
        Dispatcher(
            outbox,
            deliveries=DELIVERIES,
            after_delivery=AFTER_DELIVERY,
            context=DeliveryContext(write_clients, vault.open),
            executors=write_executors,
            policy=policies.outbox,
            owner=worker,
            rng=random.Random(settings.seed + 2),
            clock=clock,
            wall_clock=wall_clock,
            on_event=sink.emit,
            metrics=outbox_metrics,
            find_dead=registry.dead,
            forget=registry.forget,
        )
        if settings.dispatcher
        else None
    )
    payments = write_executors.get("payments")
    tool_deps = ToolDeps(
        crm=clients.crm,
        eligibility=clients.eligibility_api,
        calendar=write_clients.calendar,
        vault=vault,
        outbox=outbox,
        calls=calls,
        payments_breaker=payments.breaker if payments is not None else None,
        delivery=dispatcher,
        wall_clock=wall_clock,
    )
    tools = ToolRuntime(
        tool_deps,
        calls,
        read_executors=executors,
        policies=policies,
        clock=clock,
        on_attempt=sink.record_attempt,
        emit=sink.emit,
        seed=settings.seed,
        shared_workers=settings.workers > 1,
    )
    integration = Integration(
        settings=settings,
        worker=worker,
        policies=policies,
        system_map=system_map,
        transport=transport,
        clients=clients,
        executors=executors,
        sink=sink,
        lookup=lookup,
        store=store,
        event_db=event_db,
        calls=calls,
        last_good=last_good,
        crm_token=crm_token,
        outbox=outbox,
        receipts=MessageReceipts(outbox, wall_clock=wall_clock),
        payment_events=PaymentEvents(outbox, wall_clock=wall_clock),
        vault=vault,
        write_clients=write_clients,
        write_executors=write_executors,
        outbox_metrics=outbox_metrics,
        dispatcher=dispatcher,
        tools=tools,
        admission=Admission(policies.admission, clock, settings.lookup_deadline_ms),
        access=access,
        workers=registry,
        scorecards=Scorecards(store, wall_clock=wall_clock),
        wall_clock=wall_clock,
    )
    registry.publish(integration.snapshot)
    return integration
