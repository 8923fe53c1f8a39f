"""The one object the layer reports to: it fans each happening out to the stream (recent,
in memory), the store (durable) and the metrics."""

from __future__ import annotations

from typing import Any

from integration.events.metrics import Metrics
from integration.events.model import AttemptLike, Event, utc_now_iso
from integration.events.store import EventStore
from integration.events.stream import EventStream

__all__ = ["EventSink"]


class EventSink:
    def __init__(
        self,
        stream: EventStream,
        metrics: Metrics,
        store: EventStore | None = None,
    ) -> None:
        self.stream = stream
        self.metrics = metrics
        self.store = store

    @classmethod
    def in_memory(cls, maxlen: int = 50_000) -> EventSink:
        """A sink with no store: for tests and tools that need no history on disk."""
        return cls(EventStream(maxlen), Metrics())

    async def start(self) -> None:
        """Open the store and carry on numbering after the newest event it holds.

        Start before traffic: events published earlier are numbered from 1 and may
        repeat seqs already on disk.
        """
        if self.store is not None:
            await self.store.start()
            self.stream.advance_to(self.store.last_seq)

    async def aclose(self) -> None:
        if self.store is not None:
            await self.store.aclose()

    async def recent(
        self, since: str, kinds: tuple[str, ...] = ("attempt", "cache"), limit: int = 50_000
    ) -> list[Event]:
        """Events of ``kinds`` stamped at or after ``since``: every worker's from the
        store, or this worker's from memory when events are not stored."""
        if self.store is not None:
            return await self.store.recent(since, kinds, limit)
        found, _ = self.stream.since(max(0, self.stream.last_seq - limit), limit)
        return [e for e in found if e.kind in kinds and e.at >= since]

    def record_attempt(self, record: AttemptLike) -> None:
        """The executor's ``on_attempt`` callback: an event, stored, and counted.

        Returns None so it fits ``Callable[[AttemptRecord], None]``; the event is in the stream.
        """
        event = self.stream.publish(Event.from_attempt(record))
        if self.store is not None:
            self.store.enqueue(event)
        self.metrics.observe_attempt(record)

    def record_cache_hit(
        self,
        system: str,
        operation: str,
        *,
        call_id: str | None = None,
        age_s: float | None = None,
        reason: str | None = None,
    ) -> Event:
        """A last-good value served instead of a live answer (the executor does not know)."""
        self.metrics.observe_cache_hit(system)
        detail: dict[str, Any] = {"age_s": age_s}
        if reason is not None:
            detail["because"] = reason
        return self.emit(
            "cache",
            call_id=call_id,
            system=system,
            operation=operation,
            cache_hit=True,
            detail=detail,
        )

    def emit(self, kind: str, **fields: Any) -> Event:
        """Any other happening: ``emit("tool", call_id=..., operation="book", outcome="ok")``."""
        if "at" not in fields:
            fields["at"] = utc_now_iso()
        event = self.stream.publish(Event(kind, **fields))
        if self.store is not None:
            self.store.enqueue(event)
        return event
