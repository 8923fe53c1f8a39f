"""Validation errors made safe to send back: each names the field and says what is wrong,
never what was sent.

pydantic's errors carry the input itself (``input``, and ``ctx`` values such as a
discriminator's tag), two messages quote it (``union_tag_invalid``, ``timezone_offset``),
and a location may hold a key the client made up (an extra field, a map's key). So every
renderer of validation errors passes them through ``safe_errors``: the input and context go,
those messages are said again without the value, and a location keeps only the names the
API itself defines (the property, parameter and enum names of its OpenAPI document, see
``defined_names``); any other key reads ``*``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI

__all__ = ["OTHER_KEY", "defined_names", "names_in_schema", "safe_errors", "safe_loc"]

OTHER_KEY = "*"  # stands for a key the client sent that the API does not define
_SECTIONS = frozenset({"body", "query", "path", "header", "cookie"})
_PYDANTIC_MARKS = frozenset({"[key]"})


def _reworded_tag(ctx: Mapping[str, Any]) -> str:
    return (
        f"Input tag found using {ctx.get('discriminator', 'the discriminator')} does not match "
        f"any of the expected tags: {ctx.get('expected_tags', '')}"
    )


def _reworded_offset(ctx: Mapping[str, Any]) -> str:
    return f"Timezone offset of {ctx.get('tz_expected', 'another value')} required"


# Messages whose template holds the input (pydantic_core's list_all_errors() shows them all).
_REWORDED: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "union_tag_invalid": _reworded_tag,
    "timezone_offset": _reworded_offset,
}


def safe_loc(loc: Iterable[Any], names: Collection[str]) -> list[str | int]:
    """``loc`` with each key the API does not define replaced by ``*``."""
    return [part if _defined(part, index, names) else OTHER_KEY for index, part in enumerate(loc)]


def _defined(part: Any, index: int, names: Collection[str]) -> bool:
    if isinstance(part, int):
        return not isinstance(part, bool)  # a list index
    return isinstance(part, str) and (
        part in names or part in _PYDANTIC_MARKS or (index == 0 and part in _SECTIONS)
    )


def safe_errors(
    errors: Iterable[Mapping[str, Any]], names: Collection[str]
) -> list[dict[str, Any]]:
    """``{"type", "loc", "msg"}`` for each error: no input, no context, no made-up keys."""
    safe = []
    for error in errors:
        kind = str(error.get("type", "value_error"))
        reword = _REWORDED.get(kind)
        message = reword(error.get("ctx") or {}) if reword else str(error.get("msg", ""))
        loc = safe_loc(error.get("loc", ()), names)
        safe.append({"type": kind, "loc": loc, "msg": message or "invalid value"})
    return safe


def names_in_schema(node: Any) -> frozenset[str]:
    """Every property, parameter and (text) enum name a JSON schema or OpenAPI document
    defines."""
    return frozenset(_names(node))


def _names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from (name for name in properties if isinstance(name, str))
        for key in ("enum", "required"):
            values = node.get(key)
            if isinstance(values, list):
                yield from (str(value) for value in values if isinstance(value, str | int))
        if isinstance(node.get("const"), str):
            yield node["const"]
        if isinstance(node.get("name"), str) and "in" in node:  # an OpenAPI parameter
            yield node["name"]
        for value in node.values():
            yield from _names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names(value)


def defined_names(app: FastAPI, *extra: str) -> frozenset[str]:
    """The names ``app``'s OpenAPI document defines (computed once per app), and ``extra``."""
    names: frozenset[str] | None = getattr(app.state, "defined_names", None)
    if names is None:
        names = names_in_schema(app.openapi())
        app.state.defined_names = names
    return names | frozenset(extra) if extra else names
