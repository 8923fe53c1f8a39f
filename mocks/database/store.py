"""The core-banking database: a real SQL database seeded from the shared dataset.

Seeding happens once per dataset: ``dataset_meta`` records which one the tables hold, so a
restart with the same seed and size keeps the file. On SQLite, triggers note every row
that anything (the integration layer, a person with ``sqlite3``) changes, and a reset puts
back just those rows; other dialects reload the seeded tables in full.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from mocks.database._engines import make_engine, sqlite_file
from mocks.database._rows import (
    ToValues,
    as_is,
    dataset_signature,
    seeded_records,
    sqlite_text,
)
from mocks.database.schema import DATA_TABLES, dataset_meta, metadata, seed_changes
from mocks.dataset import Dataset

__all__ = ["DatabaseStore"]

_BATCH = 50_000  # rows per executemany: bounds memory for the 500k-row transactions table
_KEYS_PER_DELETE = 500  # stays under SQLite's bound-parameter limit
OUTAGE_SUFFIX = ".outage"
# Which row images a change trigger logs: an UPDATE may change the key itself.
_TRIGGER_ROWS = (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW")))


class DatabaseStore:
    def __init__(self, url: str, dataset: Dataset, *, busy_timeout_ms: int = 5000) -> None:
        self.url = make_url(url)
        self.dataset = dataset
        self.dialect = self.url.get_backend_name()
        self.file = sqlite_file(self.url)
        self.engine = make_engine(self.url, busy_timeout_ms=busy_timeout_ms)
        # Inspection answers fast instead of queueing behind an injected lock.
        self.probe_engine = make_engine(self.url, busy_timeout_ms=200)
        self.seeded_on_start: bool | None = None
        self._originals: dict[str, dict[str, Any]] = {}

    @property
    def masked_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @property
    def outage_file(self) -> Path | None:
        return None if self.file is None else self.file.with_name(self.file.name + OUTAGE_SUFFIX)

    @cached_property
    def signature(self) -> str:
        return dataset_signature(self.dataset)

    # -- seeding ------------------------------------------------------------------------

    def ensure_seeded(self) -> bool:
        """Seed unless the database already holds this dataset; True when it seeded."""
        self._recover_from_interrupted_outage()
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                # Not WAL, on purpose: with a rollback journal a writer's lock blocks readers.
                conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        seeded = self._stored_signature() != self.signature
        if seeded:
            self.seed()
        self.seeded_on_start = seeded
        return seeded

    def seed(self) -> None:
        """Drop and rebuild every table from the dataset."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
            for table in metadata.sorted_tables:
                conn.execute(CreateTable(table))
            for name, (records, to_values) in seeded_records(self.dataset).items():
                self._bulk_insert(conn, DATA_TABLES[name][0], records, to_values)
            # Indexes after the rows: one sort per index instead of 800k B-tree inserts.
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    conn.execute(CreateIndex(index))
            self._install_change_tracking(conn)
            conn.execute(
                insert(dataset_meta),
                [
                    {
                        "id": 1,
                        "seed": self.dataset.seed,
                        "customers": len(self.dataset.customers),
                        "fingerprint": self.signature,
                        "seeded_at": datetime.now(UTC),
                    }
                ],
            )

    def restore(self) -> int:
        """Put seeded rows back as they were; returns how many rows were touched."""
        if self._stored_signature() == self.signature:
            try:
                with self.engine.begin() as conn:
                    if self.dialect != "sqlite":
                        return self._reload_all(conn)
                    return self._restore_changed(conn)
            except SQLAlchemyError:
                pass  # a table dropped or altered under us: rebuild below
        self.seed()
        return -1

    def _restore_changed(self, conn: Connection) -> int:
        changed: dict[str, list[str]] = {}
        logged = conn.execute(select(seed_changes.c.table_name, seed_changes.c.row_key))
        for table_name, key in logged:
            changed.setdefault(table_name, []).append(key)
        for table_name, keys in changed.items():
            table, key_column = DATA_TABLES[table_name]
            originals = self._seeded_by_key(table_name)
            for chunk in _batches(keys, _KEYS_PER_DELETE):
                conn.execute(delete(table).where(table.c[key_column].in_(chunk)))
            to_values = seeded_records(self.dataset)[table_name][1]
            columns = table.columns.keys()
            rows = [
                dict(zip(columns, to_values(originals[k], as_is), strict=True))
                for k in keys
                if k in originals
            ]
            if rows:
                conn.execute(insert(table), rows)
        conn.execute(delete(seed_changes))  # includes what the restore itself just logged
        return sum(len(keys) for keys in changed.values())

    def _reload_all(self, conn: Connection) -> int:
        total = 0
        for name, (records, to_values) in seeded_records(self.dataset).items():
            table = DATA_TABLES[name][0]
            conn.execute(delete(table))
            self._bulk_insert(conn, table, records, to_values)
            total += len(records)
        return total

    def _bulk_insert(
        self, conn: Connection, table: Table, records: Sequence[Any], to_values: ToValues
    ) -> None:
        columns = table.columns.keys()
        if self.dialect == "sqlite":
            # Straight to the driver: SQLAlchemy's per-row work triples the time at 100k.
            sql = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for batch in _batches((to_values(r, sqlite_text) for r in records), _BATCH):
                conn.exec_driver_sql(sql, batch)
            return
        rows = (dict(zip(columns, to_values(r, as_is), strict=True)) for r in records)
        for batch in _batches(rows, _BATCH):
            conn.execute(insert(table), batch)

    def _seeded_by_key(self, table_name: str) -> dict[str, Any]:
        """The dataset's records of one table by primary key, built on the first reset."""
        if table_name not in self._originals:
            records = seeded_records(self.dataset)[table_name][0]
            key = DATA_TABLES[table_name][1]  # named like the dataset's attribute
            self._originals[table_name] = {getattr(r, key): r for r in records}
        return self._originals[table_name]

    def _install_change_tracking(self, conn: Connection) -> None:
        if self.dialect != "sqlite":
            return
        log = "INSERT OR IGNORE INTO seed_changes (table_name, row_key) VALUES ('{t}', {row}.{k});"
        for name, (_, key) in DATA_TABLES.items():
            for event, rows in _TRIGGER_ROWS:
                body = " ".join(log.format(t=name, row=r, k=key) for r in rows)
                conn.exec_driver_sql(
                    f"CREATE TRIGGER seed_track_{name}_{event.lower()} AFTER {event} ON {name} "
                    f"FOR EACH ROW BEGIN {body} END"
                )

    def _stored_signature(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(dataset_meta.c.fingerprint)).scalar()
        except SQLAlchemyError as exc:
            if "locked" in str(exc):
                raise  # someone holds a write lock: reseeding would fail the same way
            return None  # no such table, or not a database: a new or foreign file

    def _recover_from_interrupted_outage(self) -> None:
        """A server stopped mid-outage leaves the real file aside; put it back."""
        aside = self.outage_file
        if self.file is not None and aside is not None and aside.exists():
            os.replace(aside, self.file)

    # -- inspection ---------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """URL, dialect, row counts and journal mode; raises if the database can't be read."""
        with self.probe_engine.connect() as conn:
            tables = {
                name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, (table, _) in DATA_TABLES.items()
            }
            journal_mode = None
            if self.dialect == "sqlite":
                journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            meta = conn.execute(select(dataset_meta)).mappings().first()
        return {
            "url": self.masked_url,
            "dialect": self.dialect,
            "tables": tables,
            "journal_mode": journal_mode,
            "dataset": None if meta is None else self._dataset_json(meta),
            "seeded_on_start": self.seeded_on_start,
        }

    def _dataset_json(self, meta: Any) -> dict[str, Any]:
        """The seeded dataset: its fingerprint is the one `switchboard dataset` prints (the
        stored signature, which says cheaply whether the file holds it, is beside it)."""
        stored = _meta_json(meta)
        if stored["signature"] == self.signature:
            stored["fingerprint"] = self.dataset.fingerprint()  # computed once, then cached
        return stored

    def ping(self) -> None:
        with self.probe_engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM customers")).scalar_one()

    def dispose(self) -> None:
        self.engine.dispose()
        self.probe_engine.dispose()


def _meta_json(meta: Any) -> dict[str, Any]:
    return {
        "seed": meta["seed"],
        "customers": meta["customers"],
        "fingerprint": None,  # known only for the dataset this process holds
        "signature": meta["fingerprint"],
        "seeded_at": meta["seeded_at"].isoformat(),
    }


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
