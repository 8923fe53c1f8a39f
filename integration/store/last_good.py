"""The last good answers behind cached fallbacks, shared by every worker on the store.

Each executor keeps its own in-memory copy (``integration.policies.cache``) and reads it
first; this is the copy behind it, so a fallback works on whichever worker serves the
call, and a worker that just started has the others' answers. Writes go behind the hot
path: ``remember`` only notes the value, and a background task writes what was noted every
``flush_interval_s`` in one upsert per batch (the newest value per key wins). A read from
the store is bounded by ``read_timeout_s``: it runs when a source has just failed a
caller, who cannot wait long for the fallback either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Column, Float, MetaData, String, Table, Text, select
from sqlalchemy.dialects import postgresql, sqlite

from integration.policies.cache import CachedValue
from integration.store.database import Database

__all__ = ["SharedLastGood", "metadata"]

log = logging.getLogger(__name__)

metadata = MetaData()

last_good = Table(
    "layer_last_good",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("operation", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("stored_at", Float, nullable=False),  # wall clock: ages compare across workers
)
_t = last_good.c

Key = tuple[str, str, str]


class SharedLastGood:
    def __init__(
        self,
        db: Database,
        *,
        wall_clock: Callable[[], float] = time.time,
        flush_interval_s: float = 0.1,
        read_timeout_s: float = 0.05,
        max_pending: int = 100_000,
    ) -> None:
        self.db = db
        self._wall = wall_clock
        self.flush_interval_s = flush_interval_s
        self.read_timeout_s = read_timeout_s
        self.max_pending = max_pending
        self._pending: dict[Key, tuple[Any, float]] = {}
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0

    async def start(self) -> None:
        await self.db.start(metadata)
        self._task = asyncio.create_task(self._run(), name="last-good-writer")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.flush()

    def remember(self, system: str, operation: str, key: str, value: Any) -> None:
        """Note a good answer; written with the next batch."""
        if len(self._pending) >= self.max_pending and (system, operation, key) not in self._pending:
            self.dropped += 1  # the writer is far behind: the in-memory copy still serves
            return
        self._pending[(system, operation, key)] = (value, self._wall())

    async def recall(
        self, system: str, operation: str, key: str, max_staleness_s: float
    ) -> CachedValue | None:
        """The newest good answer any worker stored, unless older than ``max_staleness_s``
        (None, too, when the store does not answer within ``read_timeout_s``)."""
        noted = self._pending.get((system, operation, key))
        found: tuple[Any, float] | None = noted
        if found is None:
            try:
                async with asyncio.timeout(self.read_timeout_s):
                    found = await self.db.run(_read, system, operation, key)
            except TimeoutError:
                return None
        if found is None:
            return None
        value, stored_at = found
        age = self._wall() - stored_at
        if age > max_staleness_s:
            return None
        return CachedValue(value, max(0.0, age))

    async def flush(self) -> None:
        if not self._pending or not self.db.started:
            return
        batch, self._pending = self._pending, {}
        rows = [
            {
                "system": s,
                "operation": o,
                "key": k,
                "value": orjson.dumps(v).decode(),
                "stored_at": at,
            }
            for (s, o, k), (v, at) in batch.items()
        ]
        try:
            await self.db.run_write(_upsert, rows)
        except Exception:
            log.warning("writing %d last good answers failed", len(rows), exc_info=True)
            for key, noted in batch.items():
                self._pending.setdefault(key, noted)
            return
        self.written += len(rows)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            await self.flush()


def _read(db: Database, system: str, operation: str, key: str) -> tuple[Any, float] | None:
    query = select(_t.value, _t.stored_at).where(
        _t.system == system, _t.operation == operation, _t.key == key
    )
    with db.read() as conn:
        row = conn.execute(query).first()
    return (orjson.loads(row.value), row.stored_at) if row is not None else None


def _upsert(db: Database, rows: list[dict[str, Any]]) -> None:
    dialect: Any = postgresql if db.is_postgres else sqlite
    statement = dialect.insert(last_good)
    statement = statement.on_conflict_do_update(
        index_elements=[_t.system, _t.operation, _t.key],
        set_={"value": statement.excluded.value, "stored_at": statement.excluded.stored_at},
        where=last_good.c.stored_at <= statement.excluded.stored_at,
    )
    with db.write() as conn:
        conn.execute(statement, rows)
