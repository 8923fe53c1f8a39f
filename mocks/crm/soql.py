"""A small, strict SOQL subset for the mock Salesforce CRM.

    SELECT field[, field...] | COUNT()  FROM Object
    [WHERE cond [AND cond ...]]  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]  [LIMIT n]
    cond := field = lit | field != lit | field <> lit | field IN (lit, ...) | field LIKE 'pat'

Behaviour follows Salesforce where it is observable to a client: keywords and field names
are case-insensitive, text `=` / `IN` / `LIKE` ignore case, an empty string is null,
`!=` keeps nulls, nulls sort first unless told otherwise, text sorts without case.
Anything outside the subset (OR, NOT, groups, relationship paths, aggregates, date
literals) is refused with the errorCode Salesforce would use and a caret at the token.

Parsing is cached per query string and WHERE compiles to closures, because the CRM
store evaluates these on every lookup against ~100k records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from itertools import islice
from typing import Any, NoReturn

from mocks.crm._soql_lexer import (
    RESERVED,
    SoqlError,
    Token,
    decode_string,
    like_matcher,
    located,
    tokenize,
)

__all__ = ["Condition", "OrderItem", "Query", "SoqlError", "index_key", "parse_soql"]

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
_MISSING: Any = object()
_MAX_LIMIT = 2**31 - 1  # Salesforce parses LIMIT as a 32-bit int
# Order and Group are real Salesforce objects, so those two reserved words may follow FROM.
_NOT_OBJECTS = RESERVED - {"ORDER", "GROUP"}


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
        return [self.project(r) for r in self._select(records)]

    def count(self, records: Iterable[Record]) -> int:
        return sum(1 for _ in self._select(records))

    def _select(self, records: Iterable[Record]) -> Iterable[Record]:
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

    def validate_fields(self, known: Iterable[str]) -> None:
        known_lower = {k.lower() for k in known}
        for name, pos in self.field_refs:
            if name.lower() not in known_lower:
                detail = (
                    f"No such column '{name}' on entity '{self.object_name}'. "
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


# ------------------------------------------------------------------- parsing


@functools.lru_cache(maxsize=1024)
def parse_soql(query: str) -> Query:
    """Parse one query; raises SoqlError. Cached: the result is immutable and shared."""
    return _Parser(query).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.refs: list[tuple[str, int]] = []

    # -- token helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    @staticmethod
    def is_kw(tok: Token, *words: str) -> bool:
        return tok.kind == "ident" and tok.text.upper() in words

    def is_punct(self, ch: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.text == ch

    def fail(self, tok: Token, expected: str = "", detail: str = "") -> NoReturn:
        if not detail:
            detail = f"unexpected token: '{tok.text}'"
            if expected:
                detail += f" (expected {expected})"
        raise SoqlError(located(self.text, tok.pos, detail))

    def expect_kw(self, word: str) -> Token:
        tok = self.take()
        if not self.is_kw(tok, word):
            self.fail(tok, expected=word)
        return tok

    def expect_punct(self, ch: str) -> None:
        tok = self.take()
        if tok.kind != "punct" or tok.text != ch:
            self.fail(tok, expected=f"'{ch}'")

    # -- grammar
    def query(self) -> Query:
        self.expect_kw("SELECT")
        fields, is_count = self.select_list()
        self.expect_kw("FROM")
        obj = self.take()
        if obj.kind != "ident" or "." in obj.text or obj.text.upper() in _NOT_OBJECTS:
            self.fail(obj, expected="an object name")
        conditions: list[Condition] = []
        order: list[OrderItem] = []
        limit: int | None = None
        upcoming = ["WHERE", "ORDER BY", "LIMIT"]
        if self.is_kw(self.peek(), "WHERE"):
            self.take()
            conditions = self.conditions()
            upcoming = ["AND", "ORDER BY", "LIMIT"]
        if self.is_kw(self.peek(), "ORDER"):
            order_tok = self.take()
            self.expect_kw("BY")
            if is_count:
                self.fail(order_tok, detail="ORDER BY cannot be used with COUNT()")
            order = self.order_list()
            upcoming = ["','", "LIMIT"]
        if self.is_kw(self.peek(), "LIMIT"):
            self.take()
            limit = self.limit()
            upcoming = []
        tail = self.peek()
        if tail.kind != "eof":
            if self.is_kw(tail, "OR"):
                self.reject_or(tail)
            self.fail(tail, expected=", ".join([*upcoming, "end of query"]))
        return Query(
            self.text, obj.text, fields, is_count, tuple(conditions), tuple(order), limit,
            tuple(self.refs),
        )  # fmt: skip

    def select_list(self) -> tuple[tuple[str, ...], bool]:
        ahead = self.peek(1)
        if self.is_kw(self.peek(), "COUNT") and ahead.kind == "punct" and ahead.text == "(":
            self.take()
            self.take()
            close = self.take()
            if close.text != ")":
                self.fail(close, detail="only COUNT() is supported; COUNT(field) and other "
                          "aggregates are not supported by this mock")  # fmt: skip
            if self.is_punct(","):
                self.fail(self.peek(), detail="COUNT() must be the only element in the SELECT list")
            return (), True
        names: list[str] = []
        seen: set[str] = set()
        while True:
            tok = self.field_name()
            if tok.text.lower() in seen:
                detail = f"duplicate field selected: {tok.text}"
                raise SoqlError(located(self.text, tok.pos, detail), "INVALID_FIELD")
            seen.add(tok.text.lower())
            names.append(tok.text)
            if not self.is_punct(","):
                return tuple(names), False
            self.take()

    def field_name(self) -> Token:
        tok = self.take()
        if tok.kind != "ident" or tok.text.upper() in RESERVED:
            self.fail(tok, expected="a field name")
        if self.is_punct("("):
            what = (
                "COUNT() must be the only element in the SELECT list"
                if self.is_kw(tok, "COUNT")
                else f"functions such as {tok.text}() are not supported by this mock"
            )
            self.fail(tok, detail=what)
        if "." in tok.text:
            detail = (
                f"Didn't understand relationship '{tok.text.split('.')[0]}' in field "
                f"path '{tok.text}': relationship fields are not supported by this mock"
            )
            raise SoqlError(located(self.text, tok.pos, detail), "INVALID_FIELD")
        self.refs.append((tok.text, tok.pos))
        return tok

    def reject_or(self, tok: Token) -> NoReturn:
        self.fail(tok, detail="OR is not supported by this mock's SOQL subset: "
                  "conditions can only be joined with AND")  # fmt: skip

    def conditions(self) -> list[Condition]:
        found = [self.condition()]
        while self.is_kw(self.peek(), "AND"):
            self.take()
            found.append(self.condition())
        if self.is_kw(self.peek(), "OR"):
            self.reject_or(self.peek())
        return found

    def condition(self) -> Condition:
        head = self.peek()
        if self.is_punct("("):
            self.fail(head, detail="parenthesised condition groups are not supported by this "
                      "mock: write conditions joined with AND")  # fmt: skip
        if self.is_kw(head, "NOT"):
            self.fail(head, detail="NOT is not supported by this mock: use != instead")
        name = self.field_name()
        op = self.take()
        if op.kind == "op":
            if op.text not in ("=", "!=", "<>"):
                self.fail(op, detail=f"operator '{op.text}' is not supported by this mock "
                          "(supported: =, !=, <>, IN, LIKE)")  # fmt: skip
            value = self.literal()
            return Condition(name.text, "=" if op.text == "=" else "!=", (value,), name.pos)
        if self.is_kw(op, "IN"):
            self.expect_punct("(")
            values = [self.literal()]
            while self.is_punct(","):
                self.take()
                values.append(self.literal())
            self.expect_punct(")")
            return Condition(name.text, "IN", tuple(values), name.pos)
        if self.is_kw(op, "LIKE"):
            pat = self.take()
            if pat.kind != "string":
                self.fail(pat, expected="a quoted LIKE pattern")
            matcher = like_matcher(decode_string(pat, self.text, like=True))
            return Condition(name.text, "LIKE", (pat.text[1:-1],), name.pos, matcher)
        self.fail(op, expected="=, !=, <>, IN or LIKE")

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return decode_string(tok, self.text)
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if self.is_kw(tok, "TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[tok.text.upper()]
        self.fail(tok, expected="a value: 'text', a number, true, false or null")

    def order_list(self) -> list[OrderItem]:
        items: list[OrderItem] = []
        while True:
            name = self.field_name().text
            descending = self.is_kw(self.peek(), "DESC")
            if descending or self.is_kw(self.peek(), "ASC"):
                self.take()
            nulls_last = False
            if self.is_kw(self.peek(), "NULLS"):
                self.take()
                where = self.take()
                if not self.is_kw(where, "FIRST", "LAST"):
                    self.fail(where, expected="FIRST or LAST")
                nulls_last = self.is_kw(where, "LAST")
            items.append(OrderItem(name, descending, nulls_last))
            if not self.is_punct(","):
                return items
            self.take()

    def limit(self) -> int:
        tok = self.take()
        if tok.kind != "number" or not tok.text.isdigit():
            self.fail(tok, expected="a non-negative whole number")
        if int(tok.text) > _MAX_LIMIT:
            self.fail(tok, detail=f"numeric value out of range: {tok.text}")
        return int(tok.text)
