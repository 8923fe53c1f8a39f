"""The hottest statements of the store, run by the database driver itself.

SQLAlchemy composes the store's SQL once and runs it anywhere, but executing a statement
through it costs five to ten times what the driver takes for the statement itself (bound
parameter processing, result machinery, events), and a call runs dozens of them. So the
statements every call runs are written here once, with ``:name`` parameters, and handed to
the driver in its own parameter style (sqlite3's ``:name``, psycopg's ``%(name)s``), on the
connection of the transaction SQLAlchemy opened. Rows come back as plain tuples.
Hand-written because no library does this one narrow thing without the overhead it avoids.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

__all__ = ["Sql", "key_errors"]

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


class Sql:
    """One statement, in each driver's parameter style."""

    __slots__ = ("named", "pyformat")

    def __init__(self, statement: str) -> None:
        self.named = " ".join(statement.split())
        self.pyformat = _PARAM.sub(r"%(\1)s", self.named.replace("%", "%%"))

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """Execute on ``conn``'s driver connection; the driver's cursor."""
        cursor = _driver(conn).cursor()
        cursor.execute(self._for(conn), params or {})
        return cursor

    def one(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row (a tuple), or None."""
        cursor = self.run(conn, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        cursor = self.run(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def count(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Rows the statement changed."""
        cursor = self.run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: Iterable[Mapping[str, Any] | Sequence[Any]]) -> None:
        cursor = _driver(conn).cursor()
        try:
            cursor.executemany(self._for(conn), list(rows))
        finally:
            cursor.close()

    def _for(self, conn: Connection) -> str:
        return self.pyformat if conn.dialect.name == "postgresql" else self.named


def key_errors(dialect: str) -> tuple[type[Exception], ...]:
    """What a refused key or constraint raises there, through SQLAlchemy or the driver."""
    if dialect == "postgresql":
        import psycopg

        return (IntegrityError, psycopg.IntegrityError)
    return (IntegrityError, sqlite3.IntegrityError)


def _driver(conn: Connection) -> Any:
    raw = conn.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw
