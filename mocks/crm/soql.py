"""A small, strict SOQL subset for the mock Salesforce CRM.

    SELECT field[, field...] | COUNT()  FROM Object
    [WHERE cond [AND cond ...]]  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]  [LIMIT n]
    cond := field = lit | field != lit | field <> lit | field IN (lit, ...) | field LIKE 'pat'

Behaviour follows Salesforce where it is observable to a client: keywords and field names
are case-insensitive, text `=` / `IN` / `LIKE` ignore case, an empty string is null,
`!=` keeps nulls, nulls sort first unless told otherwise, text sorts without case.
Anything outside the subset (OR, NOT, groups, relationship paths, aggregates, date
literals) is refused with the errorCode Salesforce would use and a caret at the token.

Parsing is cached per query string. What a parsed ``Query`` does with records (compiled
predicates, ordering, projection) lives in ``mocks.crm._soql_eval``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NoReturn

from mocks.crm._soql_eval import Condition, OrderItem, Query, index_key
from mocks.crm._soql_lexer import (
    RESERVED,
    SoqlError,
    Token,
    decode_string,
    described,
    like_matcher,
    located,
    tokenize,
)

__all__ = ["Condition", "OrderItem", "Query", "SoqlError", "index_key", "parse_soql"]

_MAX_LIMIT = 2**31 - 1  # Salesforce parses LIMIT as a 32-bit int
# Order and Group are real Salesforce objects, so those two reserved words may follow FROM.
_NOT_OBJECTS = RESERVED - {"ORDER", "GROUP"}


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
            detail = f"unexpected token: {described(tok)}"
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
            self.text,
            obj.text,
            fields,
            is_count,
            tuple(conditions),
            tuple(order),
            limit,
            tuple(self.refs),
        )

    def select_list(self) -> tuple[tuple[str, ...], bool]:
        ahead = self.peek(1)
        if self.is_kw(self.peek(), "COUNT") and ahead.kind == "punct" and ahead.text == "(":
            self.take()
            self.take()
            close = self.take()
            if close.text != ")":
                self.fail(
                    close,
                    detail="only COUNT() is supported; COUNT(field) and other "
                    "aggregates are not supported by this mock",
                )
            if self.is_punct(","):
                self.fail(self.peek(), detail="COUNT() must be the only element in the SELECT list")
            return (), True
        names: list[str] = []
        seen: set[str] = set()
        while True:
            tok = self.field_name()
            if tok.text.lower() in seen:
                detail = "duplicate field selected"
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
                else "functions are not supported by this mock (only COUNT() is)"
            )
            self.fail(tok, detail=what)
        if "." in tok.text:
            detail = (
                "Didn't understand relationship in field path: relationship fields are not "
                "supported by this mock"
            )
            raise SoqlError(located(self.text, tok.pos, detail), "INVALID_FIELD")
        self.refs.append((tok.text, tok.pos))
        return tok

    def reject_or(self, tok: Token) -> NoReturn:
        self.fail(
            tok,
            detail="OR is not supported by this mock's SOQL subset: "
            "conditions can only be joined with AND",
        )

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
            self.fail(
                head,
                detail="parenthesised condition groups are not supported by this "
                "mock: write conditions joined with AND",
            )
        if self.is_kw(head, "NOT"):
            self.fail(head, detail="NOT is not supported by this mock: use != instead")
        name = self.field_name()
        op = self.take()
        if op.kind == "op":
            if op.text not in ("=", "!=", "<>"):
                self.fail(
                    op,
                    detail=f"operator '{op.text}' is not supported by this mock "
                    "(supported: =, !=, <>, IN, LIKE)",
                )
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
            return self.number(tok)
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

    def number(self, tok: Token) -> int | float:
        # Salesforce numbers are doubles or longs; Python's would grow without end.
        digits = tok.text.lstrip("+-").replace(".", "")
        value = float(tok.text) if "." in tok.text else int(tok.text) if len(digits) <= 18 else None
        if value is None or not math.isfinite(value):
            self.fail(tok, detail="numeric value out of range")
        return value

    def limit(self) -> int:
        tok = self.take()
        if tok.kind != "number" or not tok.text.isdigit():
            self.fail(tok, expected="a non-negative whole number")
        if len(tok.text) > 9 or int(tok.text) > _MAX_LIMIT:
            self.fail(tok, detail="numeric value out of range")
        return int(tok.text)
