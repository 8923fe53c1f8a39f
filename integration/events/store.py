"""Events on disk, written behind the hot path, shared by every worker on the store.

``enqueue`` only appends to a list; a background task drains it every ``flush_interval_s``
(or as soon as ``batch_size`` events wait) and inserts the batch with one executemany in
the database's threads, so a slow disk delays the store, never a call. ``aclose`` drains
everything, so a graceful shutdown loses nothing.

A reader's cursor is the row id, which the database hands out in commit order: SQLite
has one writer at a time, and on PostgreSQL every batch takes one advisory lock first
(sequence values are drawn at insert, not at commit, so two batches committing out of
order would otherwise let a reader step past rows that appear later).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)

from integration.events.model import Event
from integration.store.database import Database
from integration.store.sql import Sql

__all__ = ["EventStore", "events_table"]

log = logging.getLogger(__name__)

_metadata = MetaData()
# ``id`` is every reader's cursor (``Event.seq`` when read back): in commit order on both
# backends, so "after id N" never misses a row committed later.
events_table = Table(
    "layer_events",
    _metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", String(40), nullable=False),
    Column("call_id", String(64)),
    Column("kind", String(32), nullable=False),
    Column("system", String(32)),
    Column("operation", String(64)),
    Column("attempt", Integer),
    Column("hedge", Boolean, nullable=False),
    Column("latency_ms", Float),
    Column("outcome", String(64), nullable=False),
    Column("status", Integer),
    Column("injected_fault", String(64)),
    Column("breaker_state", String(16)),
    Column("cache_hit", Boolean, nullable=False),
    Column("detail", Text),
    Index("ix_layer_events_call_id", "call_id", "id"),
)
_COLUMNS = tuple(c.name for c in events_table.columns if c.name != "id")
# Any constant: the key of the one lock every PostgreSQL batch takes before inserting.
_ORDER_LOCK = 0x5B0A2D


class EventStore:
    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.05,
        max_pending: int = 500_000,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_pending = max_pending
        self._pending: list[Event] = []
        self._wake: asyncio.Event | None = None
        self._write_lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.last_seq = 0  # the newest id on disk when the store started
        self.written = 0
        self.dropped = 0
        self.failures = 0

    # -- hot path ---------------------------------------------------------------------

    def enqueue(self, event: Event) -> None:
        pending = self._pending
        if len(pending) >= self.max_pending or self._closed:
            # The writer is far behind (or gone): shed the newest rather than grow forever.
            self.dropped += 1
            return
        pending.append(event)
        if len(pending) >= self.batch_size and self._wake is not None:
            self._wake.set()

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database, create the schema, learn the newest id, start the writer."""
        if self._task is not None:
            return
        self._closed = False
        await self.db.start(_metadata)
        self.last_seq = await self.db.run(_max_id)
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task = asyncio.create_task(self._run(), name="event-store-writer")

    async def aclose(self) -> None:
        """Stop the writer and write everything still pending (the database stays open:
        whoever opened it closes it)."""
        if self._task is None:
            return
        self._closed = True
        assert self._wake is not None
        self._wake.set()
        await self._task
        self._task = None
        await self.flush()
        if self._pending:
            log.error("event store closed with %d events unwritten", len(self._pending))
            self.dropped += len(self._pending)
            self._pending = []

    async def flush(self) -> None:
        """Write what is pending now (the writer does this on its own; readers call it so
        this worker's own events are in what they read)."""
        if not self.db.started or self._write_lock is None:
            return
        async with self._write_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            try:
                await self.db.run_write(_insert, batch)
            except Exception:
                self.failures += 1
                log.exception("writing %d events failed; will retry", len(batch))
                room = max(0, self.max_pending - len(self._pending))
                self.dropped += max(0, len(batch) - room)
                self._pending[:0] = batch[:room]
                return
            self.written += len(batch)

    def stats(self) -> dict[str, Any]:
        return {
            "pending": len(self._pending),
            "written": self.written,
            "dropped": self.dropped,
            "failures": self.failures,
        }

    # -- reading ----------------------------------------------------------------------

    async def query(
        self,
        cursor: int,
        limit: int = 500,
        *,
        call_id: str | None = None,
        kind: str | None = None,
    ) -> tuple[list[Event], int]:
        """Events with an id after ``cursor`` (oldest first), and the cursor to ask with
        next. This worker's pending events are written first; other workers' appear
        within their flush interval."""
        if not self.db.started:
            raise RuntimeError("EventStore.query before start()")
        await self.flush()
        events = await self.db.run(_select, cursor, limit, call_id, kind)
        return events, events[-1].seq if events else cursor

    async def recent(self, since: str, kinds: tuple[str, ...], limit: int) -> list[Event]:
        """Events of ``kinds`` stamped at or after ``since`` (an ``at`` string), oldest
        first: only the newest ``limit`` ids are looked at, never the whole table."""
        if not self.db.started:
            raise RuntimeError("EventStore.recent before start()")
        await self.flush()
        return await self.db.run(_recent, since, kinds, limit)

    async def newest(self) -> int:
        """The id of the newest event on disk (0 when there is none)."""
        return await self.db.run(_max_id)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            await self.flush()


# -- in the database's threads ----------------------------------------------------------------

_INSERT = Sql(
    f"INSERT INTO layer_events ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _COLUMNS)})"
)
_ORDERED = Sql("SELECT pg_advisory_xact_lock(:key)")


def _max_id(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.max(events_table.c.id))).scalar() or 0)


def _insert(db: Database, batch: Sequence[Event]) -> None:
    rows = [_row(e) for e in batch]
    with db.write() as conn:
        if db.is_postgres:
            _ORDERED.one(conn, {"key": _ORDER_LOCK})
        _INSERT.many(conn, rows)


def _select(
    db: Database, cursor: int, limit: int, call_id: str | None, kind: str | None
) -> list[Event]:
    t = events_table
    stmt = select(t.c.id, *(t.c[name] for name in _COLUMNS)).where(t.c.id > cursor)
    if call_id is not None:
        stmt = stmt.where(t.c.call_id == call_id)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    stmt = stmt.order_by(t.c.id).limit(limit)
    with db.read() as conn:
        return [_event(row._mapping) for row in conn.execute(stmt)]


def _recent(db: Database, since: str, kinds: tuple[str, ...], limit: int) -> list[Event]:
    t = events_table
    with db.read() as conn:
        top = int(conn.execute(select(func.max(t.c.id))).scalar() or 0)
        stmt = (
            select(t.c.id, *(t.c[name] for name in _COLUMNS))
            .where(t.c.id > top - limit, t.c.at >= since, t.c.kind.in_(kinds))
            .order_by(t.c.id)
        )
        return [_event(row._mapping) for row in conn.execute(stmt)]


def _row(e: Event) -> dict[str, Any]:
    row = e.as_dict()
    del row["seq"]
    row["detail"] = json.dumps(e.detail, default=str) if e.detail else None
    return row


def _event(row: Any) -> Event:
    fields = dict(row)
    detail = fields.pop("detail")
    seq = fields.pop("id")
    return Event(**fields, seq=seq, detail=json.loads(detail) if detail else {})
