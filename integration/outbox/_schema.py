"""The outbox's tables and how its database is opened (SQLite or any SQLAlchemy URL).

SQLite files run in WAL mode (readers never block the dispatcher's writes) with
``synchronous=FULL`` by default: a call's end is acknowledged only after its commit is on
disk, and FULL is the level at which that commit survives a power cut, not only a crash.
Write transactions begin with ``BEGIN IMMEDIATE`` so the write lock is taken up front:
two dispatchers (threads or processes) queue on the busy timeout instead of both reading
the same due effects and one failing on upgrade.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import make_url

from integration.outbox.model import EffectRow
from integration.sqlengine import make_engine

__all__ = [
    "SYNCHRONOUS_LEVELS",
    "calls",
    "effect_deps",
    "effect_row",
    "effects",
    "is_memory",
    "manual_payments",
    "message_status",
    "open_engine",
    "read",
    "write",
]

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
_WRITE = "outbox_write"
_DURABLE = "outbox_durable"

metadata = MetaData()

calls = Table(
    "outbox_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),  # the key that makes end_call idempotent
    Column("phone", String(32)),
    Column("customer_id", String(64)),
    Column("fingerprint", String(64), nullable=False),
    Column("outcome", Text, nullable=False),  # redacted JSON: never a card number
    Column("ended_at", Float, nullable=False),
)

effects = Table(
    "outbox_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(64), ForeignKey("outbox_calls.call_id"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("system", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("depends_on", Text, nullable=False),  # JSON list of names, as the spec said
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Column("delivered_at", Float),
    Column("last_error", Text),
    Column("dead_reason", String(32)),
    Column("result", Text),
    UniqueConstraint("call_id", "name", name="uq_outbox_effects_call_name"),
    # What claim and due_counts scan: pending effects of one system, soonest first.
    Index("ix_outbox_effects_due", "status", "system", "next_attempt_at"),
)

# One row per dependency edge, by id, so "is every dependency delivered?" is one join.
effect_deps = Table(
    "outbox_effect_deps",
    metadata,
    Column("effect_id", Integer, ForeignKey("outbox_effects.id"), primary_key=True),
    Column("depends_on_id", Integer, ForeignKey("outbox_effects.id"), primary_key=True),
    Index("ix_outbox_effect_deps_parent", "depends_on_id"),
)

manual_payments = Table(
    "outbox_manual_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(64), ForeignKey("outbox_calls.call_id"), nullable=False, unique=True),
    Column("token", Text, nullable=False),  # Fernet ciphertext; the key is not in this database
    Column("last4", String(4), nullable=False),
    Column("brand", String(16), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Each text's carrier status from Twilio's callbacks, by message sid. A callback may come
# before the send's answer is processed: its row waits with no effect (unmatched) until
# the delivery links it. ``status`` is NULL until the first callback.
message_status = Table(
    "outbox_message_status",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("effect_id", Integer, ForeignKey("outbox_effects.id")),
    Column("status", String(24)),
    Column("error_code", String(16)),
    Column("seen", Text, nullable=False),  # JSON list: each status once, in arrival order
    Column("callbacks", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("out_of_order", Integer, nullable=False),
    Column("first_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_outbox_message_status_effect", "effect_id"),
)


def is_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def open_engine(url: str, *, synchronous: str, busy_timeout_ms: int) -> Engine:
    """An engine for ``url`` with the outbox's tables created."""
    level = synchronous.upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
    engine, sqlite = make_engine(url, busy_timeout_ms=busy_timeout_ms)
    if sqlite:
        _sqlite_setup(engine, level, busy_timeout_ms)
    metadata.create_all(engine)
    return engine


def _sqlite_setup(engine: Engine, level: str, busy_timeout_ms: int) -> None:
    _write_locks[engine] = (threading.RLock(), busy_timeout_ms / 1000)

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
            # Only a transaction the API acknowledges waits for the disk at the configured
            # level; the dispatcher's bookkeeping (claims, verdicts) commits at NORMAL, which
            # in WAL mode survives any crash of the process. A power cut could lose its
            # last verdicts, and then those effects are sent again under the same
            # idempotency keys: applied once all the same.
            want = level if options.get(_DURABLE, False) else "NORMAL"
            info = conn.connection.info
            if info.get("synchronous") != want:
                conn.exec_driver_sql(f"PRAGMA synchronous={want}")
                info["synchronous"] = want
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


# One lock per SQLite engine that write transactions queue on within this process. SQLite
# lets one writer in at a time; the others, left to its busy handler, sleep 1, 2, 5, 10,
# 25... ms between tries, so under load most of a write's time went on those naps (and an
# outbox write sits on a caller's turn). Here the next writer starts the moment the last
# one commits. Other processes still meet the busy timeout, as before.
_write_locks: WeakKeyDictionary[Engine, tuple[threading.RLock, float]] = WeakKeyDictionary()


@contextmanager
def write(engine: Engine, *, durable: bool = False) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start.
    ``durable``: one the API acknowledges (it commits at the store's synchronous level)."""
    lock, wait_s = _write_locks.get(engine, (None, 0.0))
    # Past the busy timeout, go on regardless and let SQLite say "database is locked".
    queued = lock.acquire(timeout=wait_s) if lock is not None else False
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE: True, _DURABLE: durable})
            with conn.begin():
                yield conn
    finally:
        if queued:
            assert lock is not None
            lock.release()


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for every query in it."""
    with engine.connect() as conn, conn.begin():
        yield conn


def effect_row(row: Any) -> EffectRow:
    m = row._mapping
    return EffectRow(
        id=m["id"],
        call_id=m["call_id"],
        name=m["name"],
        system=m["system"],
        kind=m["kind"],
        payload=json.loads(m["payload"]),
        depends_on=tuple(json.loads(m["depends_on"])),
        idempotency_key=m["idempotency_key"],
        status=m["status"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        lease_owner=m["lease_owner"],
        lease_until=m["lease_until"],
        delivered_at=m["delivered_at"],
        last_error=m["last_error"],
        dead_reason=m["dead_reason"],
        result=json.loads(m["result"]) if m["result"] is not None else None,
    )
