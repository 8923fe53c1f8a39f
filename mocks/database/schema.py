"""The core-banking database's tables, as SQLAlchemy Core objects.

The integration layer imports these to build its queries, so the column names here are a
contract. Plain SQL works too: the tables and columns are exactly what they look like.
Datetimes are UTC; on SQLite they are stored as naive ``YYYY-MM-DD HH:MM:SS`` text (and
come back timezone-aware through ``UtcDateTime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)

__all__ = [
    "DATA_TABLES",
    "UtcDateTime",
    "accounts",
    "customers",
    "dataset_meta",
    "metadata",
    "products",
    "seed_changes",
    "transactions",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the dialect keeps (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # rows written by plain SQL rather than through this type
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(16), primary_key=True),
    Column("phone_e164", String(16), nullable=False, unique=True, index=True),
    Column("first_name", String(80), nullable=False),
    Column("last_name", String(80), nullable=False),
    Column("email", String(254)),
    Column("segment", String(32), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_number", String(24), primary_key=True),
    Column("customer_id", String(16), nullable=False, index=True),
    Column("type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
)

transactions = Table(
    "transactions",
    metadata,
    Column("txn_id", String(24), primary_key=True),
    Column("account_number", String(24), nullable=False, index=True),
    Column("posted_at", UtcDateTime, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("description", String(120), nullable=False),
    Column("category", String(32), nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("min_credit_score", Integer, nullable=False),
    Column("min_income", Integer, nullable=False),
    Column("max_amount_cents", BigInteger),
    Column("apr_bps", Integer),
)

# One row: which dataset the tables hold, so a restart with the same one skips seeding.
dataset_meta = Table(
    "dataset_meta",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("seeded_at", UtcDateTime, nullable=False),
)

# Rows touched since seeding, filled by triggers (SQLite), so reset restores only those.
seed_changes = Table(
    "seed_changes",
    metadata,
    Column("table_name", String(32), primary_key=True),
    Column("row_key", String(64), primary_key=True),
)

# The tables seeded from the dataset, with the column that identifies a row.
DATA_TABLES: dict[str, tuple[Table, str]] = {
    "customers": (customers, "customer_id"),
    "accounts": (accounts, "account_number"),
    "transactions": (transactions, "txn_id"),
    "products": (products, "code"),
}
