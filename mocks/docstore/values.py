"""DynamoDB attribute values on the wire: ``{"S": "text"}``, ``{"N": "42"}``, ``{"M": {...}}``.

Items are kept as they travel, in this typed JSON, so what a client put is what it gets.
``check`` refuses a malformed value naming where it is; ``compare`` orders two values of
the same scalar type as DynamoDB does (numbers by value, strings by code point).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from mocks.docstore.errors import DynamoError

__all__ = ["Item", "check", "check_item", "compare", "number", "size_of"]

Item = dict[str, Any]
_NUMBER = re.compile(r"-?(\d{1,38}(\.\d{1,38})?|\.\d{1,38})([eE][+-]?\d{1,3})?")
_SCALARS = ("S", "N", "B", "BOOL", "NULL")
_SETS = ("SS", "NS", "BS")
MAX_NAME = 255
MAX_ITEM_BYTES = 400 * 1024


def _bad(where: str, why: str) -> DynamoError:
    return DynamoError.validation(f"One or more parameter values were invalid: {why} (in {where})")


def number(text: str, where: str) -> Decimal:
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        raise _bad(where, "a number attribute must be a decimal number in a string")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise _bad(where, "not a number") from exc
    if value != 0 and not Decimal("1e-130") <= abs(value) < Decimal("1e126"):
        raise _bad(where, "a number must lie between 1E-130 and 9.9E125")
    return value


def check(value: Any, where: str) -> None:
    """One AttributeValue: exactly one type key, with a value of that type."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad(where, "an AttributeValue has exactly one data type")
    ((kind, data),) = value.items()
    if kind == "S":
        if not isinstance(data, str):
            raise _bad(where, "S takes a string")
    elif kind == "N":
        number(data, where)
    elif kind == "B":
        if not isinstance(data, str):
            raise _bad(where, "B takes base64 text")
    elif kind == "BOOL":
        if not isinstance(data, bool):
            raise _bad(where, "BOOL takes true or false")
    elif kind == "NULL":
        if data is not True:
            raise _bad(where, "NULL takes true")
    elif kind in ("L", "M"):
        _check_container(kind, data, where)
    elif kind in _SETS:
        _check_set(kind, data, where)
    else:
        raise _bad(where, "an unknown data type")


def _check_container(kind: str, data: Any, where: str) -> None:
    if kind == "L":
        if not isinstance(data, list):
            raise _bad(where, "L takes a list")
        for index, entry in enumerate(data):
            check(entry, f"{where}[{index}]")
        return
    if not isinstance(data, dict):
        raise _bad(where, "M takes a map")
    for name, entry in data.items():
        if not 0 < len(name) <= MAX_NAME:
            raise _bad(where, f"attribute names take 1 to {MAX_NAME} characters")
        check(entry, f"{where}.*")


def _check_set(kind: str, data: Any, where: str) -> None:
    if not isinstance(data, list) or not data or not all(isinstance(v, str) for v in data):
        raise _bad(where, f"{kind} takes a non-empty list of strings")
    values = [number(v, where) for v in data] if kind == "NS" else list(data)
    if len(set(values)) != len(values):
        raise _bad(where, "a set may not hold duplicates")


def check_item(item: Any, where: str) -> Item:
    if not isinstance(item, dict):
        raise _bad(where, "must be a map of attribute names to values")
    for name, value in item.items():
        if not 0 < len(name) <= MAX_NAME:
            raise _bad(where, f"attribute names take 1 to {MAX_NAME} characters")
        check(value, where)
    if size_of(item) > MAX_ITEM_BYTES:
        raise DynamoError.validation("Item size has exceeded the maximum allowed size")
    return item


def size_of(item: Item) -> int:
    return len(repr(item).encode("utf-8", "surrogatepass"))


def compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 for two scalars of one type (S, N, B); None when they do not compare."""
    if not (isinstance(left, dict) and isinstance(right, dict)) or left.keys() != right.keys():
        return None
    ((kind, a),) = left.items()
    b = right[kind]
    if kind == "N":
        x, y = Decimal(a), Decimal(b)
    elif kind in ("S", "B"):
        x, y = a, b
    else:
        return 0 if a == b else None
    return (x > y) - (x < y)


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, dict) and isinstance(right, dict) and "N" in left and "N" in right:
        return Decimal(left["N"]) == Decimal(right["N"])
    return bool(left == right)
