"""Engines for the mock database: one connection per use, with a busy timeout on SQLite.

``NullPool`` on purpose: a pooled SQLite connection keeps the file it opened, so it would
never notice an outage (the file swapped for garbage); opening per use behaves like the
readers the chaos actions are meant to hurt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

LOCK_STATEMENTS: dict[str, str] = {
    # SQLite locks the whole file; in DELETE journal mode that blocks readers as well.
    "sqlite": "BEGIN EXCLUSIVE",
    "postgresql": "LOCK TABLE accounts, customers IN ACCESS EXCLUSIVE MODE",
    "mysql": "LOCK TABLES accounts WRITE, customers WRITE",
    "mariadb": "LOCK TABLES accounts WRITE, customers WRITE",
}


def sqlite_file(url: URL) -> Path | None:
    """The database file of a file-backed SQLite URL, else None."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str | URL, *, busy_timeout_ms: int) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, poolclass=NullPool)
    engine = create_engine(
        parsed, poolclass=NullPool, connect_args={"timeout": busy_timeout_ms / 1000}
    )

    @event.listens_for(engine, "connect")
    def _busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.close()

    return engine


class ExclusiveLock:
    """One connection that takes and drops a real exclusive lock, as often as asked."""

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect.name
        self._statement = self.statement_for(self._dialect)
        self._raw = engine.raw_connection()
        if self._dialect == "sqlite":
            # Autocommit mode, so BEGIN EXCLUSIVE is ours and not the driver's implicit BEGIN.
            self._raw.driver_connection.isolation_level = None  # type: ignore[union-attr]

    @staticmethod
    def statement_for(dialect: str) -> str:
        statement = LOCK_STATEMENTS.get(dialect)
        if statement is None:
            known = ", ".join(sorted(LOCK_STATEMENTS))
            raise NotImplementedError(f"no exclusive lock for {dialect} (supported: {known})")
        return statement

    def acquire(self) -> None:
        cursor = self._raw.cursor()
        try:
            cursor.execute(self._statement)
        finally:
            cursor.close()

    def release(self) -> None:
        if self._dialect in ("mysql", "mariadb"):
            cursor = self._raw.cursor()
            try:
                cursor.execute("UNLOCK TABLES")
            finally:
                cursor.close()
        self._raw.rollback()

    def close(self) -> None:
        self._raw.close()
