"""The composition root: the one place the integration layer is assembled from settings.

    build(settings, *, transport=None, clock=None, sleep=None) -> Integration

Nothing is opened here: transports open their connections on first use inside the
running loop, and ``Integration.start()`` opens the event store. Tests pass a transport,
a clock and a sleep; everything else comes from ``settings``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from integration.clients import LayerClients, build_clients
from integration.clients.writes import WriteClients, build_write_clients
from integration.events.metrics import Metrics
from integration.events.sink import EventSink
from integration.events.store import EventStore
from integration.events.stream import EventStream
from integration.lookup.caller_lookup import CUSTOMER_STEPS, STEPS, CallerLookup
from integration.lookup.recommend import ESSENTIAL
from integration.outbox.deliveries import DELIVERIES, SYSTEM_OF_KIND, DeliveryContext
from integration.outbox.dispatcher import Dispatcher
from integration.outbox.metrics import OutboxMetrics
from integration.outbox.receipts import MessageReceipts
from integration.outbox.store import OutboxStore
from integration.outbox.vault import CardVault
from integration.policies.executor import SourceExecutor, build_executors
from integration.policies.models import PolicyBook
from integration.service.calls import CallRegistry
from integration.settings import IntegrationSettings
from integration.systemmap.model import SystemMap, check_caller_lookup, load_system_map
from integration.transport import Transport
from integration.transports import make_transport

__all__ = ["Integration", "build"]


@dataclass
class Integration:
    settings: IntegrationSettings
    policies: PolicyBook
    system_map: SystemMap
    transport: Transport
    clients: LayerClients
    executors: dict[str, SourceExecutor]
    sink: EventSink
    lookup: CallerLookup
    calls: CallRegistry
    outbox: OutboxStore
    receipts: MessageReceipts
    vault: CardVault
    write_clients: WriteClients
    write_executors: dict[str, SourceExecutor]
    outbox_metrics: OutboxMetrics
    dispatcher: Dispatcher | None
    wall_clock: Callable[[], float]

    async def start(self) -> None:
        await self.sink.start()
        await self.outbox.start()
        if self.dispatcher is not None:
            await self.dispatcher.start()

    async def aclose(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        for executor in (*self.executors.values(), *self.write_executors.values()):
            await executor.aclose()
        await self.clients.aclose()
        await self.transport.aclose()
        await self.outbox.aclose()
        await self.sink.aclose()

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def delivery_summary(self) -> dict[str, Any]:
        if self.dispatcher is None:
            return {"dispatcher": None}
        return self.dispatcher.summary()


def build(
    settings: IntegrationSettings,
    *,
    transport: Transport | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    wall_clock: Callable[[], float] | None = None,
    durable_events: bool = True,
) -> Integration:
    """``durable_events=False`` keeps events in memory only (the outbox is always on disk:
    point ``events_url`` at ``sqlite://`` for a throwaway one)."""
    clock = clock or time.monotonic
    wall_clock = wall_clock or time.time
    sleep = sleep or asyncio.sleep
    system_map, policies = load_system_map(settings.policies_file)
    check_caller_lookup(
        system_map,
        {name: system for name, (system, _) in STEPS.items()},
        set(STEPS) - set(CUSTOMER_STEPS),
        set(ESSENTIAL),
    )
    transport = transport or make_transport(settings.transport, settings.max_connections)
    store = EventStore(settings.resolved_events_url) if durable_events else None
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    sink = EventSink(EventStream(settings.events_memory), Metrics(), store)
    systems = sorted({system for system, _ in STEPS.values()})
    executors = build_executors(
        policies,
        systems,
        clock=clock,
        sleep=sleep,
        rng=random.Random(settings.seed),
        on_attempt=sink.record_attempt,
    )
    database_bulkhead = policies.for_system("database").bulkhead.max_concurrent
    clients = build_clients(settings, transport, clock=clock, database_threads=database_bulkhead)
    lookup = CallerLookup(
        clients,
        executors,
        default_deadline_ms=settings.lookup_deadline_ms,
        clock=clock,
        on_cache_hit=sink.record_cache_hit,
    )
    write_executors = build_executors(
        policies,
        sorted(set(SYSTEM_OF_KIND.values())),
        clock=clock,
        sleep=sleep,
        rng=random.Random(settings.seed + 1),
        on_attempt=sink.record_attempt,
    )
    write_clients = build_write_clients(settings, transport, clients.crm)
    vault = CardVault.load(
        settings.card_key.get_secret_value() if settings.card_key else None,
        settings.state_dir / "card.key",
    )
    outbox = OutboxStore(
        settings.resolved_outbox_url, wall_clock=wall_clock, synchronous=settings.outbox_synchronous
    )
    outbox_metrics = OutboxMetrics(sink.metrics.registry)
    dispatcher = (
        Dispatcher(
            outbox,
            deliveries=DELIVERIES,
            context=DeliveryContext(write_clients, vault.open),
            executors=write_executors,
            policy=policies.outbox,
            owner=settings.dispatcher_owner,
            rng=random.Random(settings.seed + 2),
            clock=clock,
            wall_clock=wall_clock,
            on_event=sink.emit,
            metrics=outbox_metrics,
        )
        if settings.dispatcher
        else None
    )
    return Integration(
        settings=settings,
        policies=policies,
        system_map=system_map,
        transport=transport,
        clients=clients,
        executors=executors,
        sink=sink,
        lookup=lookup,
        calls=CallRegistry(),
        outbox=outbox,
        receipts=MessageReceipts(outbox, wall_clock=wall_clock),
        vault=vault,
        write_clients=write_clients,
        write_executors=write_executors,
        outbox_metrics=outbox_metrics,
        dispatcher=dispatcher,
        wall_clock=wall_clock,
    )
