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

from integration.clients import LayerClients, build_clients
from integration.events.metrics import Metrics
from integration.events.sink import EventSink
from integration.events.store import EventStore
from integration.events.stream import EventStream
from integration.lookup.caller_lookup import STEPS, CallerLookup
from integration.policies.executor import SourceExecutor, build_executors
from integration.policies.models import PolicyBook, load_policy_book
from integration.service.calls import CallRegistry
from integration.settings import IntegrationSettings
from integration.transport import Transport
from integration.transports import make_transport

__all__ = ["Integration", "build"]


@dataclass
class Integration:
    settings: IntegrationSettings
    policies: PolicyBook
    transport: Transport
    clients: LayerClients
    executors: dict[str, SourceExecutor]
    sink: EventSink
    lookup: CallerLookup
    calls: CallRegistry

    async def start(self) -> None:
        await self.sink.start()

    async def aclose(self) -> None:
        for executor in self.executors.values():
            await executor.aclose()
        await self.clients.aclose()
        await self.transport.aclose()
        await self.sink.aclose()


def build(
    settings: IntegrationSettings,
    *,
    transport: Transport | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    durable_events: bool = True,
) -> Integration:
    clock = clock or time.monotonic
    sleep = sleep or asyncio.sleep
    policies = load_policy_book(settings.policies_file)
    transport = transport or make_transport(settings.transport, settings.max_connections)
    store = EventStore(settings.resolved_events_url) if durable_events else None
    if durable_events:
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
    return Integration(
        settings=settings,
        policies=policies,
        transport=transport,
        clients=clients,
        executors=executors,
        sink=sink,
        lookup=lookup,
        calls=CallRegistry(),
    )
