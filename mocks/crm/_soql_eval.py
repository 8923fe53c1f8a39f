"""The parsed form of a SOQL query, and how it runs against records.

``mocks.crm.soql`` parses text into a ``Query``; here the query filters, orders, limits
and projects. WHERE compiles to closures once per query, because the CRM store runs each
query on every lookup against ~100k records, where each extra Python call per record is a
visible share of the time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from itertools import islice
from typing import Any, TypeVar

from mocks.crm._soql_lexer import SoqlError, located

__all__ = ["Condition", "OrderItem", "Query", "Record", "index_key"]

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
R = TypeVar("R", bound=Record)
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Condition:
    field: str  # as written in the query
    op: str  # "=", "!=", "IN" or "LIKE" ("<>" is normalised to "!=")
    values: tuple[Any, ...]  # decoded literals; LIKE keeps its pattern as written
    pos: int
    matcher: Callable[[str], bool] | None = dc_field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: str
    descending: bool = False
    nulls_last: bool = False


def index_key(value: Any) -> Any:
    """Normalise a stored value the way `=` / `IN` compare it (see `equality_lookups`)."""
    if value is None or value == "":
        return None
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True, eq=False)
class Query:
    text: str
    object_name: str
    fields: tuple[str, ...]
    is_count: bool
    conditions: tuple[Condition, ...]
    order_by: tuple[OrderItem, ...]
    limit: int | None
    # (name, offset) of every field mentioned, in SELECT, WHERE, ORDER BY order.
    field_refs: tuple[tuple[str, int], ...] = dc_field(repr=False)
    _predicate: Predicate = dc_field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_predicate", _compile_where(self.conditions))

    def matches(self, record: Record) -> bool:
        return self._predicate(record)

    def project(self, record: Record) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.fields:
            key = _find_key(record, name)
            out[key if key is not None else name] = record[key] if key is not None else None
        return out

    def run(self, records: Iterable[Record]) -> list[dict[str, Any]]:
        """Filter, order, limit and project. A COUNT() query returns no records, as in
        Salesforce; use `count`."""
        if self.is_count:
            return []
        return [self.project(r) for r in self.select(records)]

    def count(self, records: Iterable[Record]) -> int:
        return len(self.select(records))

    def select(self, records: Iterable[R]) -> list[R]:
        """Filter, order and limit, without projecting: the matching records as given.

        For callers that need more of a record than the query selected (the CRM's
        responses need each record's Id for its attributes url)."""
        hits = filter(self._predicate, records) if self.conditions else iter(records)
        if not self.order_by:
            return list(islice(hits, self.limit)) if self.limit is not None else list(hits)
        rows = list(hits)
        # Stable sorts applied last key first give a multi-key ORDER BY.
        for item in reversed(self.order_by):
            rows.sort(key=_sort_key(item), reverse=item.descending)
        return rows[: self.limit] if self.limit is not None else rows

    def equality_lookups(self) -> dict[str, tuple[Any, ...]]:
        """Lowercased field -> the `index_key` values an `=` / `IN` condition allows.

        Every matching record has one of these values, so a store may scan only the
        index buckets named here; it must still confirm with `matches` (e.g. 1 and True
        share a dict bucket, and the other conditions still apply)."""
        out: dict[str, tuple[Any, ...]] = {}
        for cond in self.conditions:
            if cond.op not in ("=", "IN"):
                continue
            keys = tuple(dict.fromkeys(index_key(v) for v in cond.values))
            name = cond.field.lower()
            out[name] = tuple(k for k in out[name] if k in keys) if name in out else keys
        return out

    def validate_fields(self, known: Iterable[str], entity: str | None = None) -> None:
        """Refuse the first field (in clause order) not in ``known``; ``entity`` is the
        object's name as the API spells it (the query's own spelling is not repeated)."""
        known_lower = {k.lower() for k in known}
        for name, pos in self.field_refs:
            if name.lower() not in known_lower:
                detail = (
                    f"No such column on entity '{entity or 'this object'}'. "
                    "Custom fields end in '__c'; check the object's describe for valid names."
                )
                raise SoqlError(located(self.text, pos, detail), "INVALID_FIELD")


# ---------------------------------------------------------------- evaluation


def _find_key(record: Record, name: str) -> str | None:
    if name in record:
        return name
    lname = name.lower()
    return next((k for k in record if k.lower() == lname), None)


def _scan(record: Record, hint: list[str], lname: str) -> Any:
    """Case-insensitive lookup, remembering the spelling found: records in one store
    share key spelling, so the next record's plain `get(hint[0])` hits."""
    for key in record:
        if key.lower() == lname:
            hint[0] = key
            return record[key]
    return None


def _getter(name: str) -> Callable[[Record], Any]:
    lname, hint = name.lower(), [name]

    def get(record: Record) -> Any:
        value = record.get(hint[0], _MISSING)
        return value if value is not _MISSING else _scan(record, hint, lname)

    return get


def _value_test(cond: Condition) -> Callable[[Any], bool]:
    if cond.op == "LIKE":
        like = cond.matcher
        assert like is not None
        # "" is null in Salesforce, and LIKE never matches null.
        return lambda v: isinstance(v, str) and v != "" and like(v)
    wanted = [index_key(v) for v in cond.values]
    has_null = None in wanted
    texts = frozenset(w for w in wanted if isinstance(w, str))
    flags = frozenset(w for w in wanted if isinstance(w, bool))
    numbers = frozenset(w for w in wanted if w is not None and not isinstance(w, str | bool))

    def test(v: Any) -> bool:
        if isinstance(v, str):
            return v.lower() in texts if v else has_null
        if v is None:
            return has_null
        if v is True or v is False:  # kept apart from numbers: 1 == True in Python
            return v in flags
        try:
            return v in numbers
        except TypeError:  # unhashable stored value never equals a literal
            return False

    if cond.op == "!=":
        return lambda v: not test(v)
    return test


def _compile_condition(cond: Condition) -> Predicate:
    # The lookup is inlined (not _getter) and `= 'text'` gets its own closure because on a
    # 100k-record scan each extra Python call per record is a visible share of the time.
    lname, hint = cond.field.lower(), [cond.field]
    (first, *rest) = cond.values
    if cond.op == "=" and not rest and isinstance(first, str) and first:
        target = first.lower()  # `Field = 'text'`, the commonest lookup, needs no test()

        def equals_text(record: Record) -> bool:
            v = record.get(hint[0], _MISSING)
            if v is _MISSING:
                v = _scan(record, hint, lname)
            return isinstance(v, str) and v.lower() == target

        return equals_text
    test = _value_test(cond)

    def predicate(record: Record) -> bool:
        v = record.get(hint[0], _MISSING)
        if v is _MISSING:
            v = _scan(record, hint, lname)
        return test(v)

    return predicate


_COST = {"=": 0, "IN": 1, "!=": 2, "LIKE": 3}  # cheap and selective tests first


def _compile_where(conditions: tuple[Condition, ...]) -> Predicate:
    preds = [_compile_condition(c) for c in sorted(conditions, key=lambda c: _COST[c.op])]
    if not preds:
        return lambda record: True
    combined = preds[0]
    for nxt in preds[1:]:
        combined = _both(combined, nxt)
    return combined


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda record: first(record) and second(record)


def _sort_key(item: OrderItem) -> Callable[[Record], tuple[Any, ...]]:
    get = _getter(item.field)
    # Nulls must land first/last in the final order, whichever way the sort runs.
    null_key = (1,) if item.nulls_last != item.descending else (-1,)

    def key(record: Record) -> tuple[Any, ...]:
        v = get(record)
        if v is None or v == "":
            return null_key
        if isinstance(v, str):
            return (0, 1, v.lower())
        if isinstance(v, int | float):
            return (0, 0, v)
        return (0, 2, str(v))  # mixed or exotic types: ordered, never a TypeError

    return key
