"""The CRM's records, one table per sObject, indexed for the lookups callers make.

A caller-ID lookup (``WHERE Phone = '...'``) has to stay fast at 100k customers, so each
table keeps a hash index per commonly matched field (built when a query first needs it),
keyed the way SOQL ``=`` compares (``soql.index_key``: lower-cased text, empty as null).
A query that names an indexed field in ``=`` / ``IN`` reads only those buckets; anything
else scans. Either way the query itself confirms every candidate, so an index can only
make a query faster.

Tables are built from the dataset on first use (or when the service warms them), and a
reset keeps every table nothing wrote to, so resetting between tests costs next to nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mocks.crm._ids import IdFactory, to_18
from mocks.crm.schema import SOBJECTS, SObjectType
from mocks.crm.seed import Record, compound_name, seed_records, sf_datetime
from mocks.crm.soql import Query, index_key

if TYPE_CHECKING:
    from mocks.dataset import Dataset

__all__ = ["INDEXED_FIELDS", "WARM_INDEXES", "CrmStore", "SObjectTable"]

# Lower-cased field names worth an index; a table indexes the ones its object has.
INDEXED_FIELDS = (
    "id",
    "phone",
    "mobilephone",
    "email",
    "customer_id__c",
    "accountid",
    "whoid",
    "whatid",
)
# What a caller-ID lookup needs at once; the others (~50 ms each at 100k) wait for a query.
WARM_INDEXES = ("id", "phone", "mobilephone")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building a table allocates ~100k acyclic containers; with the dataset's millions of
    objects in the heap, the collector runs it would trigger cost three times the build."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SObjectTable:
    def __init__(self, sobject: SObjectType, records: Iterable[Record]) -> None:
        self.sobject = sobject
        self.rows: dict[str, Record] = {r["Id"]: r for r in records}
        self._position: dict[str, int] = {rid: n for n, rid in enumerate(self.rows)}
        self._next_position = len(self._position)
        self.deleted: set[str] = set()  # ids deleted here: Salesforce tells them apart
        present = {name.lower(): name for name in sobject.field_names}
        # Which fields may be indexed (lower-cased -> stored spelling); each index is
        # built the first time a query can use it, so unused ones cost nothing.
        self._indexable = {lower: present[lower] for lower in INDEXED_FIELDS if lower in present}
        # lower-cased field -> index_key -> ids in insertion order
        self._indexes: dict[str, dict[Any, list[str]]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, record_id: str) -> Record | None:
        return self.rows.get(to_18(record_id))

    def insert(self, record: Record) -> None:
        record_id = record["Id"]
        self.rows[record_id] = record
        self._position[record_id] = self._next_position
        self._next_position += 1
        for lower, buckets in self._indexes.items():
            key = index_key(record.get(self._indexable[lower]))
            buckets.setdefault(key, []).append(record_id)

    def delete(self, record_id: str) -> Record:
        """Remove a record (and its index entries); raises KeyError when there is none."""
        record = self.rows.pop(record_id)
        del self._position[record_id]
        for lower, buckets in self._indexes.items():
            key = index_key(record.get(self._indexable[lower]))
            bucket = buckets.get(key, [])
            if record_id in bucket:
                bucket.remove(record_id)
                if not bucket:
                    del buckets[key]
        self.deleted.add(record_id)
        return record

    def find(self, field: str, value: Any) -> list[Record]:
        """Records whose ``field`` equals ``value`` as SOQL ``=`` compares (case-insensitive)."""
        key = index_key(value)
        index = self._index(field.lower())
        if index is not None:
            return [self.rows[rid] for rid in index.get(key, ())]
        return [r for r in self.rows.values() if index_key(r.get(field)) == key]

    def update(self, record_id: str, changes: Record) -> Record:
        """Apply ``changes`` (canonical field names) in place, keeping the indexes true."""
        record = self.rows[record_id]
        touched = [
            (self._indexable[lower], buckets)
            for lower, buckets in self._indexes.items()
            if self._indexable[lower] in changes
        ]
        for field, buckets in touched:
            old_key = index_key(record.get(field))
            bucket = buckets.get(old_key, [])
            if record_id in bucket:
                bucket.remove(record_id)
                if not bucket:
                    del buckets[old_key]
        record.update(changes)
        for field, buckets in touched:
            buckets.setdefault(index_key(record.get(field)), []).append(record_id)
        return record

    def build_indexes(self, fields: Iterable[str]) -> None:
        for name in fields:
            self._index(name.lower())

    def _index(self, lower: str) -> dict[Any, list[str]] | None:
        index = self._indexes.get(lower)
        if index is None and lower in self._indexable:
            field = self._indexable[lower]
            index = {}
            with _collector_paused():
                for record_id, record in self.rows.items():
                    key = index_key(record.get(field))
                    bucket = index.get(key)
                    if bucket is None:
                        index[key] = [record_id]
                    else:
                        bucket.append(record_id)
            self._indexes[lower] = index
        return index

    def candidates(self, query: Query) -> list[Record]:
        """Records that may match: the smallest index hit if the query allows one."""
        best: list[str] | None = None
        for lower, keys in query.equality_lookups().items():
            index = self._index(lower)
            if index is None:
                continue
            ids = [rid for key in keys for rid in index.get(key, ())]
            if best is None or len(ids) < len(best):
                best = ids
        if best is None:
            return list(self.rows.values())
        if len(best) > 1:  # several buckets: back to one order, each record once
            best = sorted(dict.fromkeys(best), key=self._position.__getitem__)
        return [self.rows[rid] for rid in best]

    def select(self, query: Query) -> list[Record]:
        """Matching records, ordered and limited, but not projected.

        Responses need each record's Id for its attributes url even when the query did
        not select it, and ``Query.run`` returns projections only; hence ``Query.select``."""
        return query.select(self.candidates(query))

    def count(self, query: Query) -> int:
        return query.count(self.candidates(query))


class CrmStore:
    """Every table of one CRM, seeded lazily from ``dataset``."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        ids: IdFactory | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.dataset = dataset
        self.ids = ids or IdFactory()
        self.now = now
        self._tables: dict[str, SObjectTable] = {}
        self._written: set[str] = set()

    def table(self, sobject: str) -> SObjectTable:
        table = self._tables.get(sobject)
        if table is None:
            with _collector_paused():
                table = SObjectTable(SOBJECTS[sobject], seed_records(self.dataset, sobject))
            self._tables[sobject] = table
        return table

    def built_tables(self) -> dict[str, int]:
        """Sizes of the tables built so far (the rest are still untouched seed data)."""
        return {name: len(table) for name, table in self._tables.items()}

    def warm(self, sobjects: Iterable[str], fields: Iterable[str] = WARM_INDEXES) -> None:
        """Build these tables, and their indexes on ``fields``, before the first query."""
        for sobject in sobjects:
            self.table(sobject).build_indexes(fields)

    def reseeded(self) -> CrmStore:
        """A store back at the seed that keeps the tables nothing has written to.

        A reset between tests then costs nothing, and a warmed table stays warm."""
        fresh = CrmStore(self.dataset, now=self.now)
        fresh._tables = {k: t for k, t in self._tables.items() if k not in self._written}
        return fresh

    def exists(self, sobject: str, record_id: str) -> bool:
        return self.table(sobject).get(record_id) is not None

    def create(self, sobject: str, changes: Record) -> Record:
        """Insert a record built from checked ``changes``; system fields are filled here."""
        spec = SOBJECTS[sobject]
        record: Record = {f.name: f.default for f in spec.fields}
        record.update(changes)
        record["Id"] = self.ids.new(spec.key_prefix)
        record["CreatedDate"] = record["LastModifiedDate"] = sf_datetime(self.now())
        if spec.has_compound_name:
            record["Name"] = compound_name(record.get("FirstName"), record.get("LastName"))
        self._written.add(sobject)
        self.table(sobject).insert(record)
        return record

    def is_deleted(self, sobject: str, record_id: str) -> bool:
        return to_18(record_id) in self.table(sobject).deleted

    def delete(self, sobject: str, record_id: str) -> Record:
        """Delete a record; raises KeyError when there is no such (live) record."""
        table = self.table(sobject)
        record = table.get(record_id)
        if record is None:
            raise KeyError(record_id)
        self._written.add(sobject)
        return table.delete(record["Id"])

    def update(self, sobject: str, record_id: str, changes: Record) -> tuple[Record, Record]:
        """Apply checked ``changes``; returns copies of the record (before, after).

        Raises KeyError when there is no such record."""
        table = self.table(sobject)
        record = table.get(record_id)
        if record is None:
            raise KeyError(record_id)
        before = dict(record)
        self._written.add(sobject)
        changes = {**changes, "LastModifiedDate": sf_datetime(self.now())}
        if table.sobject.has_compound_name and ("FirstName" in changes or "LastName" in changes):
            first = changes.get("FirstName", record.get("FirstName"))
            changes["Name"] = compound_name(first, changes.get("LastName", record.get("LastName")))
        return before, dict(table.update(record["Id"], changes))
