"""One SQL database the layer keeps its own state in, the same on SQLite and PostgreSQL.

    db = Database(url)                    # nothing opened yet
    await db.start(metadata, ...)         # engine, threads, tables
    rows = await db.run(fn, *args)        # a read: fn(db, *args) in the database's threads
    done = await db.run_write(fn, *args)  # a write (durable=True: one the API acknowledges)

Blocking SQL never runs on the event loop: the database hands the function to threads of
its own. Inside, ``db.write()`` and ``db.read()`` are transactions that mean the same thing
on both backends:

- SQLite (the embedded default): WAL mode, so readers never block the writer. SQLite has
  one writer at a time, so this process's writes go to one writer thread, which commits
  every write waiting for it in one transaction (each in a savepoint of its own, so one
  that fails takes nothing else with it): group commit, one lock hand-off and at most one
  wait for the disk for all of them, instead of a queue of writers each waiting for the
  last one's commit. The transaction takes the write lock up front (``BEGIN IMMEDIATE``);
  writers of other processes sharing the file queue on an ``flock`` of a lock file beside
  it, so the next starts the moment the last commits instead of sleeping in SQLite's busy
  handler (1, 2, 5, 10, 25... ms between tries). A batch holding a write the API
  acknowledges (``durable=True``) waits for the disk at the configured ``synchronous``
  level; any other commits at ``NORMAL``, which in WAL mode survives any crash of the
  process. A write's result is handed back only once its batch has committed.
- PostgreSQL (by URL, psycopg 3): read committed transactions, each write its own, from
  several threads; rows that several workers compete for are claimed with ``FOR UPDATE
  SKIP LOCKED`` (``skip_locked``).

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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from integration.store.sql import key_errors

__all__ = ["SYNCHRONOUS_LEVELS", "Database", "is_memory_url"]

T = TypeVar("T")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
_WRITE = "switchboard_write"
_DURABLE = "switchboard_durable"
_STOP = object()
_BATCH = 256  # writes committed together at most
_GATHERED = 8  # with this many waiting already, a batch starts at once
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
        gather_ms: float = 1.0,
    ) -> None:
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
        self.url = url
        self.name = name
        self.synchronous = level
        self.busy_timeout_ms = busy_timeout_ms
        self.gather_s = gather_ms / 1000
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        # An in-memory SQLite database is one shared connection: its writer does it all.
        self._memory = is_memory_url(url)
        self._threads = 0 if self._memory else threads
        self._engine: Engine | None = None
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writes: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._local_lock = threading.RLock()
        self._file_lock: int | None = None  # fd of the SQLite file's lock file
        self._batch = threading.local()  # the writer thread's open batch, if any
        self.batches = 0  # write transactions the writer committed
        self.batched = 0  # writes they held

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
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        """A key or constraint refused a write, through SQLAlchemy or the driver itself."""
        return key_errors("postgresql" if self.is_postgres else "sqlite")

    @property
    def skip_locked(self) -> bool:
        """Whether ``FOR UPDATE SKIP LOCKED`` exists here (SQLite has one writer anyway)."""
        return self.is_postgres

    async def start(self, *schemas: MetaData) -> None:
        """Open the database, start its threads and create ``schemas``' tables (idempotent)."""
        if self._engine is not None:
            await self.run_write(_create, schemas)
            return
        for n in range(self._threads):
            worker = threading.Thread(target=self._serve, name=f"{self.name}-db-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        if self.is_sqlite:
            name = f"{self.name}-db-writer"
            writer = threading.Thread(target=self._write_batches, name=name, daemon=True)
            writer.start()
            self._workers.append(writer)
        try:
            self._engine = await self._opened()
            await self.run_write(_create, schemas)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Finish the jobs already handed over (a call's end is never cut short), then close."""
        workers, self._workers = self._workers, []
        for _ in range(self._threads):
            self._jobs.put(_STOP)
        self._writes.put(_STOP)
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
        """A read: ``fn(self, *args)`` in the database's threads; its result or exception."""
        if self._engine is None:
            raise RuntimeError(f"the {self.name} database is used before start()")
        return await self._enqueue(self._writes if self._memory else self._jobs, fn, args)

    async def run_write(self, fn: Callable[..., T], *args: Any, durable: bool = False) -> T:
        """A write: ``fn(self, *args)``, committed before this returns. ``durable``: one the
        API acknowledges (on SQLite, its batch waits for the disk at ``synchronous``)."""
        if not self._workers:
            raise RuntimeError(f"the {self.name} database is used before start()")
        return await self._enqueue(
            self._writes if self.is_sqlite else self._jobs, fn, args, durable
        )

    async def _opened(self) -> Engine:
        """The engine, opened by the database's own threads."""
        return await self._enqueue(
            self._writes if self._memory else self._jobs, lambda _: self._open(), ()
        )

    def _enqueue(
        self,
        to: queue.SimpleQueue[Any],
        fn: Callable[..., T],
        args: tuple[Any, ...],
        durable: bool = False,
    ) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        to.put((future, loop, fn, args, durable))
        return future

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            future, loop, fn, args, _ = job
            try:
                result = fn(self, *args)
            except BaseException as exc:
                _settle(loop, future, None, exc)
            else:
                _settle(loop, future, result, None)

    def _write_batches(self) -> None:
        """SQLite's writer: every write waiting, in one transaction, until stopped."""
        try:
            self._write_until_stopped()
        finally:
            self._drop_writer_connection()

    def _write_until_stopped(self) -> None:
        while True:
            job = self._writes.get()
            if job is _STOP:
                return
            batch = [job]
            stopping = False
            if self.gather_s and self._writes.qsize() < _GATHERED:
                # A moment for the writes arriving right behind this one to join its
                # commit (PostgreSQL's commit_delay, by hand): the commit, its lock and its
                # wait for the disk cost more than the writes, and a write that waits
                # a millisecond more still answers long before anybody notices.
                time.sleep(self.gather_s)
            while len(batch) < _BATCH:
                try:
                    more = self._writes.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[Any]) -> None:
        if self._engine is None:  # opening the database: nothing to batch yet
            outcomes = [_outcome(fn, self, args) for _, _, fn, args, _ in batch]
            _settle_all(batch, outcomes)
            return
        outcomes = []
        try:
            conn = self._writer_connection()
            conn.execution_options(**{_DURABLE: any(job[4] for job in batch)})
            with self._local_lock, self._across_processes(), conn.begin():
                raw = conn.connection.dbapi_connection
                assert raw is not None
                self._batch.conn, self._batch.cursor, self._batch.depth = conn, raw.cursor(), 0
                try:
                    outcomes = [_outcome(fn, self, args) for _, _, fn, args, _ in batch]
                finally:
                    self._batch.cursor.close()
                    self._batch.conn = None
        except BaseException as exc:  # the commit itself failed: nothing of it is written
            self._drop_writer_connection()
            _settle_all(batch, [(None, exc)] * len(batch))
            return
        self.batches += 1
        self.batched += len(batch)
        _settle_all(batch, outcomes)

    def _writer_connection(self) -> Connection:
        """The writer thread's own connection, kept open across batches: checking one out
        of the pool and back for every batch cost more than a small batch's SQL."""
        conn: Connection | None = getattr(self._batch, "own", None)
        if conn is None or conn.closed:
            conn = self.engine.connect()
            conn.execution_options(**{_WRITE: True})
            self._batch.own = conn
        return conn

    def _drop_writer_connection(self) -> None:
        conn: Connection | None = getattr(self._batch, "own", None)
        self._batch.own = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    # -- transactions (in the database's threads) -----------------------------------------

    @contextmanager
    def write(self, *, durable: bool = False) -> Iterator[Connection]:
        """A transaction that will write; ``durable``: one the API acknowledges. Inside the
        writer's batch, a savepoint of it (its durability is the batch's)."""
        batch: Connection | None = getattr(self._batch, "conn", None)
        if batch is not None:
            # A savepoint of the batch, in the driver's own SQL (SQLAlchemy's nested
            # transactions cost more than the writes themselves): a write that fails is
            # undone alone, and the rest of the batch commits.
            cursor, depth = self._batch.cursor, self._batch.depth
            name = f"w{depth}"
            cursor.execute(f"SAVEPOINT {name}")
            self._batch.depth = depth + 1
            try:
                yield batch
            except BaseException:
                cursor.execute(f"ROLLBACK TO {name}")
                raise
            finally:
                self._batch.depth = depth
                cursor.execute(f"RELEASE {name}")
            return
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
        """A read transaction: one consistent snapshot for every query in it (inside the
        writer's batch, the batch's own, its writes so far included)."""
        batch: Connection | None = getattr(self._batch, "conn", None)
        if batch is not None:
            yield batch
            return
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
            engine = create_engine(parsed, connect_args=args, pool_size=self._threads + 2)
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


def _outcome(fn: Callable[..., Any], db: Database, args: tuple[Any, ...]) -> tuple[Any, Any]:
    try:
        return fn(db, *args), None
    except Exception as exc:
        return None, exc


def _settle_all(batch: list[Any], outcomes: list[tuple[Any, Any]]) -> None:
    """Every write of a batch answered with one wake-up of each loop waiting on it."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any, Any]]] = {}
    for (future, loop, *_), (result, error) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, result, error))

    def done(answers: list[tuple[Any, Any, Any]]) -> None:
        for future, result, error in answers:
            if future.cancelled():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(done, answers)


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
        # The store's hot pages (recent calls, pending effects, their indexes) in memory:
        # SQLite's default cache of 2 MB sends every write to the OS for pages it just had.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()
        record.info["synchronous"] = level

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_WRITE, False):
            want = level if options.get(_DURABLE, False) else "NORMAL"
            info = conn.connection.info
            raw = conn.connection.dbapi_connection
            assert raw is not None
            if info.get("synchronous") != want:
                raw.execute(f"PRAGMA synchronous={want}")
                info["synchronous"] = want
            raw.execute("BEGIN IMMEDIATE")
        else:
            conn.connection.dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]
