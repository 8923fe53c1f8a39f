"""One SQL database the layer keeps its own state in, the same on SQLite and PostgreSQL.

    db = Database(url)            # nothing opened yet
    await db.start(metadata, ...) # engine, threads, tables
    rows = await db.run(fn, *args)  # fn(db, *args) runs in the database's own threads

Blocking SQL never runs on the event loop: ``run`` hands the function to a few threads
owned by the database. Inside, ``db.write()`` and ``db.read()`` are transactions that mean
the same thing on both backends:

- SQLite (the embedded default): WAL mode, so readers never block the writer. A write
  transaction takes the write lock up front (``BEGIN IMMEDIATE``), so two writers queue
  instead of both reading and one failing on upgrade. Writers of this process queue on a
  lock of their own, and writers of other processes sharing the file on an ``flock`` of a
  lock file beside it, so the next writer starts the moment the last one commits instead
  of sleeping in SQLite's busy handler (1, 2, 5, 10, 25... ms between tries). Only what
  the API acknowledges (``durable=True``) waits for the disk at the configured
  ``synchronous`` level; bookkeeping commits at ``NORMAL``, which in WAL mode survives
  any crash of the process.
- PostgreSQL (by URL, psycopg 3): read committed transactions; rows that several workers
  compete for are claimed with ``FOR UPDATE SKIP LOCKED`` (``skip_locked``).

Hand-written job hand-off instead of ``run_in_executor``: a ``concurrent.futures.Future``
allocates a ``threading.Condition`` per job, and these jobs run hundreds of times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = ["SYNCHRONOUS_LEVELS", "Database", "is_memory_url"]

T = TypeVar("T")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
_WRITE = "switchboard_write"
_DURABLE = "switchboard_durable"
_STOP = object()
_SCHEMA_LOCK = 0x5B0A2C  # any constant: the advisory lock schema creation takes


def is_memory_url(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


class Database:
    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 10_000,
        threads: int = 4,
        name: str = "store",
    ) -> None:
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
        self.url = url
        self.name = name
        self.synchronous = level
        self.busy_timeout_ms = busy_timeout_ms
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        # An in-memory SQLite database is one shared connection: one thread at a time.
        self._threads = 1 if is_memory_url(url) else threads
        self._engine: Engine | None = None
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._local_lock = threading.RLock()
        self._file_lock: int | None = None  # fd of the SQLite file's lock file

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError(f"the {self.name} database is used before start()")
        return self._engine

    @property
    def skip_locked(self) -> bool:
        """Whether ``FOR UPDATE SKIP LOCKED`` exists here (SQLite has one writer anyway)."""
        return self.is_postgres

    async def start(self, *schemas: MetaData) -> None:
        """Open the database, start its threads and create ``schemas``' tables (idempotent)."""
        if self._engine is not None:
            await self.run(_create, schemas)
            return
        for n in range(self._threads):
            worker = threading.Thread(target=self._serve, name=f"{self.name}-db-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        try:
            self._engine = await self._submit(self._open)
            await self.run(_create, schemas)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Finish the jobs already handed over (a call's end is never cut short), then close."""
        workers, self._workers = self._workers, []
        for _ in workers:
            self._jobs.put(_STOP)
        loop = asyncio.get_running_loop()
        for worker in workers:
            await loop.run_in_executor(None, worker.join)
        engine, self._engine = self._engine, None
        if engine is not None:
            await loop.run_in_executor(None, engine.dispose)
        if self._file_lock is not None:
            os.close(self._file_lock)
            self._file_lock = None

    # -- running blocking work ----------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(self, *args)`` in the database's threads; its result or its exception."""
        if self._engine is None:
            raise RuntimeError(f"the {self.name} database is used before start()")
        return await self._submit(fn, self, *args)

    def _submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((future, loop, fn, args))
        return future

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            future, loop, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:
                _settle(loop, future, None, exc)
            else:
                _settle(loop, future, result, None)

    # -- transactions (in the database's threads) -----------------------------------------

    @contextmanager
    def write(self, *, durable: bool = False) -> Iterator[Connection]:
        """A transaction that will write; ``durable``: one the API acknowledges."""
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        wait_s = self.busy_timeout_ms / 1000
        # Past the busy timeout, go on regardless and let SQLite say "database is locked".
        queued = self._local_lock.acquire(timeout=wait_s)
        try:
            with self._across_processes(), self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True, _DURABLE: durable})
                with conn.begin():
                    yield conn
        finally:
            if queued:
                self._local_lock.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot for every query in it."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _across_processes(self) -> Iterator[None]:
        fd = self._file_lock
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> Engine:
        parsed = make_url(self.url)
        if not self.is_sqlite:
            return create_engine(
                parsed, pool_pre_ping=True, pool_size=self._threads, max_overflow=self._threads
            )
        args = {"check_same_thread": False, "timeout": self.busy_timeout_ms / 1000}
        database = parsed.database or ""
        if database in ("", ":memory:"):
            engine = create_engine(parsed, poolclass=StaticPool, connect_args=args)
        else:
            if not database.startswith("file:"):
                path = Path(database)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._file_lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            engine = create_engine(parsed, connect_args=args, pool_size=self._threads + 1)
        _sqlite_setup(engine, self.synchronous, self.busy_timeout_ms)
        return engine


def _settle(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, error: Any
) -> None:
    def done() -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        loop.call_soon_threadsafe(done)


def _create(db: Database, schemas: tuple[MetaData, ...]) -> None:
    """Create the tables once, however many workers start at the same moment: on SQLite
    the write lock, on PostgreSQL an advisory lock, makes them take turns."""
    with db.write() as conn:
        if db.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        for schema in schemas:
            schema.create_all(conn)


def _sqlite_setup(engine: Engine, level: str, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        # The driver's own transaction handling would issue a plain deferred BEGIN late;
        # switched off so ``_begin`` below decides how every transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        record.info["synchronous"] = level

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_WRITE, False):
            want = level if options.get(_DURABLE, False) else "NORMAL"
            info = conn.connection.info
            if info.get("synchronous") != want:
                conn.exec_driver_sql(f"PRAGMA synchronous={want}")
                info["synchronous"] = want
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
