"""The dataset as table rows, and a cheap signature that says which dataset a file holds.

Rows are tuples in the tables' column order, so seeding can hand them straight to the
driver's ``executemany`` (SQLAlchemy's per-row processing triples the time at 100k
customers). ``when`` turns a datetime into what the target column stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from mocks.dataset import BankAccount, Customer, Dataset, Product, Transaction

# Bump when the schema changes, so an old file is rebuilt instead of half-matching.
SCHEMA_VERSION = 1
_SAMPLE = 25  # records from each end of a collection that go into the signature

Values = tuple[Any, ...]
When = Callable[[datetime], Any]
ToValues = Callable[[Any, When], Values]


def as_is(moment: datetime) -> datetime:
    return moment


def sqlite_text(moment: datetime) -> str:
    """What SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(sep=" ", timespec="microseconds")[:26]


def customer_values(c: Customer, when: When) -> Values:
    return (c.customer_id, c.phone_e164, c.first_name, c.last_name, c.email, c.segment)


def account_values(a: BankAccount, when: When) -> Values:
    return (
        a.account_number,
        a.customer_id,
        a.type,
        a.status,
        a.balance_cents,
        a.currency,
        when(a.opened_at),
    )


def transaction_values(t: Transaction, when: When) -> Values:
    return (
        t.txn_id,
        t.account_number,
        when(t.posted_at),
        t.amount_cents,
        t.description,
        t.category,
    )


def product_values(p: Product, when: When) -> Values:
    return (p.code, p.name, p.kind, p.min_credit_score, p.min_income, p.max_amount_cents, p.apr_bps)


def seeded_records(ds: Dataset) -> dict[str, tuple[Sequence[Any], ToValues]]:
    """Per data table: the dataset's records and how one becomes a row."""
    return {
        "customers": (ds.customers, customer_values),
        "accounts": (ds.bank_accounts, account_values),
        "transactions": (ds.transactions, transaction_values),
        "products": (ds.products, product_values),
    }


def dataset_signature(ds: Dataset) -> str:
    """Which dataset a database holds, in milliseconds even at 100k customers.

    ``Dataset.fingerprint()`` reads every record (seconds at that size), and a restart
    should be fast. Seed, sizes and both ends of each seeded collection catch a new seed, a
    new size and a changed generator, which is what actually happens between runs.
    """
    digest = hashlib.sha256(f"switchboard-database/{SCHEMA_VERSION}\n{ds.seed}\n".encode())
    for name, (records, _) in seeded_records(ds).items():
        sample = tuple(records[:_SAMPLE]) + tuple(records[-_SAMPLE:])
        digest.update(f"#{name}:{len(records)}\n".encode())
        digest.update(repr(sample).encode())
    return digest.hexdigest()
