"""One way to open the layer's own SQL stores (events, outbox) from an SQLAlchemy URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = ["make_engine"]


def make_engine(url: str, *, busy_timeout_ms: int) -> tuple[Engine, bool]:
    """An engine for ``url`` and whether it is SQLite.

    A SQLite file gets its folder made and a busy timeout, and may be used from worker
    threads; an in-memory SQLite database is one shared connection, or every thread would
    see its own empty database. Any other URL gets a pre-pinged pool.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True), False
    args = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    database = parsed.database or ""
    if database in ("", ":memory:"):
        return create_engine(parsed, poolclass=StaticPool, connect_args=args), True
    if not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(parsed, connect_args=args), True
