"""The core-banking database, read with SQL: a customer's accounts, balances and the
latest transactions of each.

The layer declares only the columns it reads (``table()``/``column()``), never the mock's
table definitions: the database is someone else's system, and its columns are the contract.

Each query opens its own connection (``NullPool``): a pooled SQLite connection keeps the
file it opened and would read through an outage the mock stages by swapping the file.
SQLite waits for a lock at most the attempt's time (its busy timeout), so a blocked
worker thread is freed when the attempt is over. Queries run in a worker thread.

    "database is locked" / busy     SourceTimeout      (we waited the whole attempt)
    any other database error        SourceUnavailable  (not a database, cannot open ...)
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Select,
    bindparam,
    column,
    create_engine,
    event,
    func,
    select,
    table,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from integration.clients._http import AttemptState
from integration.errors import SourceTimeout, SourceUnavailable

__all__ = ["CoreBankingDatabase"]

RECENT_TRANSACTIONS = 5
OPERATION = "accounts_for_customer"

_accounts = table(
    "accounts",
    column("account_number"),
    column("customer_id"),
    column("type"),
    column("status"),
    column("balance_cents"),
    column("currency"),
    column("opened_at"),
)
_transactions = table(
    "transactions",
    column("txn_id"),
    column("account_number"),
    column("posted_at"),
    column("amount_cents"),
    column("description"),
    column("category"),
)

# Both statements are built once: composing them on every read cost more CPU than running
# them, and that Python work, done in a worker thread, holds the GIL the event loop needs.
_ACCOUNTS_OF_CUSTOMER = (
    select(
        _accounts.c.account_number,
        _accounts.c.type,
        _accounts.c.status,
        _accounts.c.balance_cents,
        _accounts.c.currency,
        _accounts.c.opened_at,
    )
    .where(_accounts.c.customer_id == bindparam("customer_id"))
    .order_by(_accounts.c.opened_at, _accounts.c.account_number)
)


def _newest_transactions() -> Select[Any]:
    """The newest ``:limit`` transactions of each account in ``:numbers``, in one query."""
    t = _transactions.c
    rank = func.row_number().over(
        partition_by=t.account_number, order_by=(t.posted_at.desc(), t.txn_id.desc())
    )
    ranked = (
        select(
            t.txn_id,
            t.account_number,
            t.posted_at,
            t.amount_cents,
            t.description,
            t.category,
            rank.label("rank"),
        )
        .where(t.account_number.in_(bindparam("numbers", expanding=True)))
        .subquery()
    )
    return (
        select(ranked)
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(ranked.c.account_number, ranked.c.rank)
    )


_NEWEST_TRANSACTIONS = _newest_transactions()

# The busy timeout of the connection being opened: set per attempt in the worker thread
# (each call runs in a copy of the context, so attempts never mix).
_busy_wait_s: ContextVar[float] = ContextVar("busy_wait_s", default=5.0)


class CoreBankingDatabase:
    system = "database"

    def __init__(
        self,
        database_url: str,
        *,
        recent_transactions: int = RECENT_TRANSACTIONS,
        max_workers: int = 20,
    ) -> None:
        url = make_url(database_url)
        self.recent_transactions = recent_transactions
        # Our own threads, sized like the bulkhead: the loop's default pool is small and
        # shared (the event store writes through it), so a lock must not starve both.
        self._threads = ThreadPoolExecutor(max_workers, thread_name_prefix="database")
        # create_engine connects to nothing; the first query does.
        self._engine: Engine = create_engine(url, poolclass=NullPool)
        if url.get_backend_name() == "sqlite":

            @event.listens_for(self._engine, "do_connect")
            def _busy_timeout(_dialect: Any, _record: Any, _args: Any, params: Any) -> None:
                params["timeout"] = _busy_wait_s.get()  # sqlite3's busy wait, in seconds

    async def accounts_for_customer(
        self, attempt: AttemptState, customer_id: str
    ) -> list[dict[str, Any]]:
        """The customer's accounts (oldest first), each with its latest transactions;
        ``[]`` when the customer has none."""
        attempt.status, attempt.injected_fault = None, None  # SQL has no fault header
        wait_s = max(attempt.timeout_s, 0.001)
        try:
            loop = asyncio.get_running_loop()
            read = functools.partial(
                contextvars.copy_context().run, self._read, customer_id, wait_s
            )
            return await loop.run_in_executor(self._threads, read)
        except SQLAlchemyError as exc:
            raise _classified(exc) from exc

    async def aclose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._engine.dispose()

    # -- in the worker thread -------------------------------------------------------------

    def _read(self, customer_id: str, wait_s: float) -> list[dict[str, Any]]:
        _busy_wait_s.set(wait_s)
        with self._engine.connect() as conn:
            accounts = (
                conn.execute(_ACCOUNTS_OF_CUSTOMER, {"customer_id": customer_id}).mappings().all()
            )
            numbers = [row["account_number"] for row in accounts]
            recent = self._recent(conn, numbers) if numbers else {}
        return [
            {
                "account_number": row["account_number"],
                "type": row["type"],
                "status": row["status"],
                "balance_cents": int(row["balance_cents"]),
                "currency": row["currency"],
                "opened_at": _iso(row["opened_at"]),
                "recent_transactions": recent.get(row["account_number"], []),
            }
            for row in accounts
        ]

    def _recent(self, conn: Connection, numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The newest ``recent_transactions`` of each account, in one query."""
        rows = conn.execute(
            _NEWEST_TRANSACTIONS, {"numbers": list(numbers), "limit": self.recent_transactions}
        ).mappings()
        by_account: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_account.setdefault(row["account_number"], []).append(
                {
                    "txn_id": row["txn_id"],
                    "posted_at": _iso(row["posted_at"]),
                    "amount_cents": int(row["amount_cents"]),
                    "description": row["description"],
                    "category": row["category"],
                }
            )
        return by_account


def _iso(value: Any) -> str | None:
    """ISO 8601 in UTC with a ``Z``; SQLite hands back the naive UTC text it stores."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _classified(exc: SQLAlchemyError) -> SourceTimeout | SourceUnavailable:
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
    lowered = detail.lower()
    if "locked" in lowered or "busy" in lowered:
        return SourceTimeout("database", OPERATION, f"lock not granted in time: {detail}")
    return SourceUnavailable("database", OPERATION, detail)
