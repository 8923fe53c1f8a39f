"""Events on disk, written behind the hot path.

``enqueue`` only appends to a list; a background task drains it every ``flush_interval_s``
(or as soon as ``batch_size`` events wait) and inserts the batch with one executemany in
a worker thread, so a slow disk delays the store, never a call. ``aclose`` drains
everything, so a graceful shutdown loses nothing. Any SQLAlchemy URL works; SQLite files
are opened in WAL mode so the dashboard's reads do not block the writer.
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
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    select,
)

from integration.events.model import Event
from integration.sqlengine import make_engine

__all__ = ["EventStore", "events_table"]

log = logging.getLogger(__name__)

_metadata = MetaData()
# ``id`` orders rows as written; ``seq`` is the stream's number, indexed for cursors.
# Not the key: events published before ``start`` could reuse a number, and a duplicate
# seq is a wrinkle for a reader while a key violation would lose a whole batch.
events_table = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
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
    Index("ix_events_seq", "seq"),
    Index("ix_events_call_id_seq", "call_id", "seq"),
)
_COLUMNS = tuple(c.name for c in events_table.columns if c.name != "id")


class EventStore:
    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.05,
        max_pending: int = 500_000,
        busy_timeout_ms: int = 5_000,
    ) -> None:
        self.url = url
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_pending = max_pending
        self._busy_timeout_ms = busy_timeout_ms
        self._engine: Engine | None = None
        self._pending: list[Event] = []
        self._wake: asyncio.Event | None = None
        self._write_lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.last_seq = 0  # the newest seq on disk when the store started
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
        """Open the database, create the schema, learn the newest seq, start the writer."""
        if self._task is not None:
            return
        self._closed = False
        self._engine = await asyncio.to_thread(self._open)
        self.last_seq = await asyncio.to_thread(self._max_seq)
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task = asyncio.create_task(self._run(), name="event-store-writer")

    async def aclose(self) -> None:
        """Stop the writer and write everything still pending."""
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
        engine, self._engine = self._engine, None
        if engine is not None:
            await asyncio.to_thread(engine.dispose)

    async def flush(self) -> None:
        """Write what is pending now (the writer does this on its own; tests and query call it)."""
        if self._engine is None or self._write_lock is None:
            return
        async with self._write_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._insert, batch)
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
        """Events with seq after ``cursor`` (oldest first), and the cursor to ask with next.

        Pending events are written first, so history is complete up to this moment.
        """
        if self._engine is None:
            raise RuntimeError("EventStore.query before start()")
        await self.flush()
        events = await asyncio.to_thread(self._select, cursor, limit, call_id, kind)
        return events, events[-1].seq if events else cursor

    # -- in the worker thread -----------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            await self.flush()

    def _open(self) -> Engine:
        engine, sqlite = make_engine(self.url, busy_timeout_ms=self._busy_timeout_ms)
        if sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        _metadata.create_all(engine)
        return engine

    def _max_seq(self) -> int:
        assert self._engine is not None
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(events_table.c.seq))).scalar() or 0)

    def _insert(self, batch: Sequence[Event]) -> None:
        assert self._engine is not None
        rows = [_row(e) for e in batch]
        with self._engine.begin() as conn:
            conn.execute(events_table.insert(), rows)

    def _select(
        self, cursor: int, limit: int, call_id: str | None, kind: str | None
    ) -> list[Event]:
        assert self._engine is not None
        t = events_table
        stmt = select(*(t.c[name] for name in _COLUMNS)).where(t.c.seq > cursor)
        if call_id is not None:
            stmt = stmt.where(t.c.call_id == call_id)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        stmt = stmt.order_by(t.c.seq, t.c.id).limit(limit)
        with self._engine.connect() as conn:
            return [_event(row._mapping) for row in conn.execute(stmt)]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power cut can
    # lose the last transactions, which is fine for an event log.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _row(e: Event) -> dict[str, Any]:
    row = e.as_dict()
    row["detail"] = json.dumps(e.detail, default=str) if e.detail else None
    return row


def _event(row: Any) -> Event:
    fields = dict(row)
    detail = fields.pop("detail")
    return Event(**fields, detail=json.loads(detail) if detail else {})
