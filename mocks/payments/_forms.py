"""Stripe's form encoding: ``metadata[order_id]=7&payment_method_types[]=card`` to nested values.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies whose keys use bracket
notation, the way Rack parses them: ``a[b][c]=v`` is a nested hash, ``a[]=v`` appends to an
array, and ``a[0]=v`` is a hash with key ``"0"`` that the endpoint reads as an array where
it expects one (the official SDKs send arrays that way). A key used both as a value and as a
hash is refused, naming the key, and so is one nested deeper than ``MAX_DEPTH`` brackets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "FormConflict",
    "FormError",
    "FormTooDeep",
    "as_list",
    "parse_form",
    "shown_name",
]

MAX_DEPTH = 32  # brackets in one key; Stripe's own objects nest a handful deep
# A parameter name an error may show: short words in bracket form, as Stripe's own are
# (``payment_method_data[card][number]``, ``metadata[order-id]``).
_SHOWABLE = re.compile(r"[A-Za-z0-9_.-]{1,40}(?:\[[A-Za-z0-9_.-]{0,40}\]){0,8}")


def shown_name(key: str) -> str | None:
    """``key`` if an error may name it as the parameter at fault, else None: a name is
    the field, but a "name" that is free text (spaces, newlines, quotes, kilobytes of it)
    is only what the client sent, and is never repeated."""
    return key if _SHOWABLE.fullmatch(key) else None


class FormError(ValueError):
    """A form Stripe would refuse; ``key`` names the parameter (None: its name is not one
    an error repeats, see ``shown_name``)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


class FormConflict(FormError):
    """A key was given both as a plain value and as a hash (or array)."""

    def __init__(self, key: str, expected: str) -> None:
        shown = shown_name(key)
        where = f"parameter {shown}" if shown else "a parameter given both ways"
        super().__init__(shown, f"Invalid {expected} for {where}")
        self.expected = expected


class FormTooDeep(FormError):
    """A key nests more brackets than any parameter has (the parser would recurse on)."""

    def __init__(self, name: str) -> None:
        shown = shown_name(name)
        where = f"parameter {shown}" if shown else "parameter"
        super().__init__(shown, f"Invalid {where}: nested more than {MAX_DEPTH} deep")


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts (and lists for ``[]``) from decoded form pairs; the last value wins."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        segments = _segments(key)
        if len(segments) > MAX_DEPTH + 1:
            raise FormTooDeep(segments[0])
        _assign(root, segments, value, key)
    return root


def as_list(value: Any) -> list[Any] | None:
    """An array parameter as a list: ``a[]=x`` gives a list, ``a[0]=x`` a hash keyed 0, 1..."""
    if isinstance(value, list):
        return value
    # ASCII digits of a sane length: isdigit() also takes "²", and int() refuses both that
    # and numbers past 4,300 digits.
    if isinstance(value, dict) and all(k.isascii() and k.isdigit() and len(k) <= 9 for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return None


def _segments(key: str) -> list[str]:
    """``"a[b][]"`` -> ``["a", "b", ""]``; a key with unbalanced brackets stays whole."""
    head, bracket, rest = key.partition("[")
    if not bracket or not head:
        return [key]
    parts = [head]
    rest = "[" + rest
    while rest:
        if not rest.startswith("[") or "]" not in rest:
            return [key]
        inner, _, rest = rest[1:].partition("]")
        parts.append(inner)
    return parts


def _assign(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    name, *more = path
    if not more:
        if isinstance(node.get(name), dict | list):
            raise FormConflict(key, "hash" if isinstance(node[name], dict) else "array")
        node[name] = value
        return
    if more[0] == "":
        _append(node, name, more[1:], value, key)
        return
    child = node.setdefault(name, {})
    if not isinstance(child, dict):
        raise FormConflict(key, "hash")
    _assign(child, more, value, key)


def _append(node: dict[str, Any], name: str, rest: list[str], value: str, key: str) -> None:
    items = node.setdefault(name, [])
    if not isinstance(items, list):
        raise FormConflict(key, "array")
    if not rest:
        items.append(value)
        return
    # ``a[][b]=1&a[][c]=2`` fills one hash until a key repeats, as Rack does.
    if not items or not isinstance(items[-1], dict) or rest[0] in items[-1]:
        items.append({})
    _assign(items[-1], rest, value, key)
