"""Applying a parsed UpdateExpression to an item (a copy: a failed update changes nothing)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from mocks.docstore.errors import DynamoError
from mocks.docstore.expressions import Node, Path, get_path, numeric, operand
from mocks.docstore.values import Item

__all__ = ["apply_update"]

_BAD_PATH = "The document path provided in the update expression is invalid for update"


def _number_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _value(node: Node, item: Item) -> Any:
    kind = node[0]
    if kind in ("plus", "minus"):
        left = numeric(_value(node[1], item), "SET")
        right = numeric(_value(node[2], item), "SET")
        return {"N": _number_text(left + right if kind == "plus" else left - right)}
    if kind == "if_not_exists":
        found = get_path(item, node[1][1])
        return found if found is not None else _value(node[2], item)
    if kind == "list_append":
        left, right = _value(node[1], item), _value(node[2], item)
        if not (
            isinstance(left, dict) and "L" in left and isinstance(right, dict) and "L" in right
        ):
            raise DynamoError.validation(
                "An operand in the update expression has an incorrect data type (list_append)"
            )
        return {"L": [*left["L"], *right["L"]]}
    found = operand(node, item)
    if found is None:
        raise DynamoError.validation(
            "The provided expression refers to an attribute that does not exist in the item"
        )
    return found


def _parent(item: Item, path: Path) -> tuple[Any, str | int]:
    """The container holding ``path``'s last part (a dict of attributes or a list)."""
    node: Any = item
    for part in path[:-1]:
        child = node.get(part) if isinstance(node, dict) and isinstance(part, str) else None
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            child = node[part]
        if not isinstance(child, dict):
            raise DynamoError.validation(_BAD_PATH)
        node = child.get("M") if "M" in child else child.get("L")
        if node is None:
            raise DynamoError.validation(_BAD_PATH)
    last = path[-1]
    if isinstance(last, int) != isinstance(node, list):
        raise DynamoError.validation(_BAD_PATH)
    return node, last


def _put(item: Item, path: Path, value: Any) -> None:
    container, last = _parent(item, path)
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        container[last] = value


def _remove(item: Item, path: Path) -> None:
    container, last = _parent(item, path)
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            del container[last]
    else:
        container.pop(last, None)


def _added(current: Any, given: Any) -> Any:
    if current is None:
        return given
    if "N" in current and "N" in given:
        total = numeric(current, "ADD") + numeric(given, "ADD")
        return {"N": _number_text(total)}
    for kind in ("SS", "NS", "BS"):
        if kind in current and kind in given:
            return {kind: list(dict.fromkeys([*current[kind], *given[kind]]))}
    raise DynamoError.validation(
        "An operand in the update expression has an incorrect data type (ADD)"
    )


def apply_update(item: Item, actions: list[Node], keys: tuple[str, ...]) -> Item:
    updated = copy.deepcopy(item)
    for action in actions:
        path: Path = action[1]
        if path[0] in keys:
            raise DynamoError.validation(
                "Cannot update attribute of the key: this attribute is part of the key"
            )
        kind = action[0]
        if kind == "set":
            _put(updated, path, _value(action[2], item))
        elif kind == "remove":
            _remove(updated, path)
        elif kind == "add":
            _put(updated, path, _added(get_path(updated, path), action[2][1]))
        else:  # delete: take values out of a set
            current, given = get_path(updated, path), action[2][1]
            kind_of = next(iter(given), "")
            if current is not None and kind_of in current and kind_of in ("SS", "NS", "BS"):
                left = [v for v in current[kind_of] if v not in given[kind_of]]
                if left:
                    _put(updated, path, {kind_of: left})
                else:
                    _remove(updated, path)
    return updated
