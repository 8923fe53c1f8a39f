"""DynamoDB's expression language, as far as preferences need it: condition, key-condition,
update and projection expressions, with ``#name`` and ``:value`` placeholders.

Parsed by a small recursive-descent parser (no library speaks this dialect). Placeholders
are resolved while parsing, and one a request defines but never uses is refused, as
DynamoDB refuses it. An error says what is wrong and where in the grammar, never the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mocks.docstore.errors import DynamoError
from mocks.docstore.values import check, compare, equal, number

__all__ = ["Expressions", "Path", "get_path"]

Path = tuple[str | int, ...]
Node = tuple[Any, ...]
MAX_EXPRESSION = 4096
_TOKEN = re.compile(
    r"\s*(?:(?P<ph>#[A-Za-z0-9_]+)|(?P<val>:[A-Za-z0-9_]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<num>\d{1,9})|(?P<op><>|<=|>=|[=<>(),.\[\]+-]))"
)
_COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
_FUNCTIONS = (
    "attribute_exists",
    "attribute_not_exists",
    "begins_with",
    "contains",
    "attribute_type",
)
_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")


def _invalid(kind: str, why: str) -> DynamoError:
    return DynamoError.validation(f"Invalid {kind}: {why}")


def get_path(item: Mapping[str, Any], path: Path) -> Any:
    node: Any = {"M": item}
    for part in path:
        if isinstance(part, int):
            node = node.get("L") if isinstance(node, dict) else None
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get("M") if isinstance(node, dict) else None
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


@dataclass
class Expressions:
    """One request's placeholders; ``finish()`` refuses those no expression used."""

    names: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Expressions:
        names = body.get("ExpressionAttributeNames") or {}
        values = body.get("ExpressionAttributeValues") or {}
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise DynamoError.validation("ExpressionAttributeNames must map #names to names")
        if not isinstance(values, dict):
            raise DynamoError.validation("ExpressionAttributeValues must map :values to values")
        for value in values.values():
            check(value, "ExpressionAttributeValues")
        return cls(names, values)

    def finish(self) -> None:
        if set(self.names) - self.used_names:
            raise DynamoError.validation(
                "Value provided in ExpressionAttributeNames unused in expressions"
            )
        if set(self.values) - self.used_values:
            raise DynamoError.validation(
                "Value provided in ExpressionAttributeValues unused in expressions"
            )

    def condition(self, text: Any, kind: str = "ConditionExpression") -> Node:
        parser = _Parser(self, text, kind)
        node = parser.condition()
        parser.end()
        return node

    def update(self, text: Any) -> list[Node]:
        parser = _Parser(self, text, "UpdateExpression")
        actions = parser.update()
        parser.end()
        return actions

    def projection(self, text: Any) -> list[Path]:
        parser = _Parser(self, text, "ProjectionExpression")
        paths = [parser.path()]
        while parser.take(","):
            paths.append(parser.path())
        parser.end()
        return paths


class _Parser:
    def __init__(self, context: Expressions, text: Any, kind: str) -> None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPRESSION:
            raise _invalid(kind, f"must be text of 1 to {MAX_EXPRESSION} characters")
        self.context = context
        self.kind = kind
        self.tokens = _tokens(text, kind)
        self.at = 0

    # -- tokens -------------------------------------------------------------------

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[1].upper() == text.upper() and token[0] in ("op", "name"):
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.take(text):
            raise _invalid(self.kind, f"expected {text!r}")

    def end(self) -> None:
        if self.peek() is not None:
            raise _invalid(self.kind, "unexpected text after the expression")

    # -- operands -------------------------------------------------------------------

    def path(self) -> Path:
        parts: list[str | int] = [self._name()]
        while True:
            if self.take("."):
                parts.append(self._name())
            elif self.take("["):
                token = self.peek()
                if token is None or token[0] != "num":
                    raise _invalid(self.kind, "a list index must be a number")
                self.at += 1
                parts.append(int(token[1]))
                self.expect("]")
            else:
                return tuple(parts)

    def _name(self) -> str:
        token = self.peek()
        if token is None or token[0] not in ("ph", "name"):
            raise _invalid(self.kind, "expected an attribute name")
        self.at += 1
        if token[0] == "name":
            return token[1]
        if token[1] not in self.context.names:
            raise _invalid(self.kind, "an expression attribute name is not defined")
        self.context.used_names.add(token[1])
        return str(self.context.names[token[1]])

    def value(self) -> Node:
        token = self.peek()
        if token is not None and token[0] == "val":
            self.at += 1
            if token[1] not in self.context.values:
                raise _invalid(self.kind, "an expression attribute value is not defined")
            self.context.used_values.add(token[1])
            return ("value", self.context.values[token[1]])
        if token is not None and token[0] == "name" and token[1] == "size":
            self.at += 1
            self.expect("(")
            path = self.path()
            self.expect(")")
            return ("size", path)
        return ("path", self.path())

    # -- conditions -------------------------------------------------------------------

    def condition(self) -> Node:
        node = self._and()
        while self.take("OR"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self.take("AND"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> Node:
        if self.take("NOT"):
            return ("not", self._not())
        if self.take("("):
            node = self.condition()
            self.expect(")")
            return node
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in _FUNCTIONS:
            return self._function(token[1])
        left = self.value()
        for comparator in _COMPARATORS:
            if self.take(comparator):
                return ("cmp", comparator, left, self.value())
        if self.take("BETWEEN"):
            low = self.value()
            self.expect("AND")
            return ("between", left, low, self.value())
        if self.take("IN"):
            self.expect("(")
            options = [self.value()]
            while self.take(","):
                options.append(self.value())
            self.expect(")")
            return ("in", left, options)
        raise _invalid(self.kind, "expected a comparison or a function")

    def _function(self, name: str) -> Node:
        self.at += 1
        self.expect("(")
        if name in ("attribute_exists", "attribute_not_exists"):
            node: Node = (name, self.path())
        else:
            first = self.value() if name != "attribute_type" else ("path", self.path())
            self.expect(",")
            node = (name, first, self.value())
        self.expect(")")
        return node

    # -- updates ----------------------------------------------------------------------

    def update(self) -> list[Node]:
        actions: list[Node] = []
        seen: set[str] = set()
        while self.peek() is not None:
            token = self.peek()
            clause = token[1].upper() if token and token[0] == "name" else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE") or clause in seen:
                raise _invalid(self.kind, "expected one SET, REMOVE, ADD or DELETE clause each")
            seen.add(clause)
            self.at += 1
            while True:
                actions.append(self._action(clause))
                if not self.take(","):
                    break
        return actions

    def _action(self, clause: str) -> Node:
        path = self.path()
        if clause == "REMOVE":
            return ("remove", path)
        if clause in ("ADD", "DELETE"):
            return (clause.lower(), path, self.value())
        self.expect("=")
        left = self._set_operand()
        if self.take("+"):
            return ("set", path, ("plus", left, self._set_operand()))
        if self.take("-"):
            return ("set", path, ("minus", left, self._set_operand()))
        return ("set", path, left)

    def _set_operand(self) -> Node:
        token = self.peek()
        if (
            token is not None
            and token[0] == "name"
            and token[1] in ("if_not_exists", "list_append")
        ):
            self.at += 1
            self.expect("(")
            first: Node = (
                ("path", self.path()) if token[1] == "if_not_exists" else self._set_operand()
            )
            self.expect(",")
            second = self._set_operand()
            self.expect(")")
            return (token[1], first, second)
        return self.value()


def _tokens(text: str, kind: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise _invalid(kind, "a character the grammar does not take")
        group = match.lastgroup or "op"
        found.append((group, match.group(group)))
        at = match.end()
    return found


# -- evaluation ---------------------------------------------------------------------------


def operand(node: Node, item: Mapping[str, Any]) -> Any:
    if node[0] == "value":
        return node[1]
    if node[0] == "path":
        return get_path(item, node[1])
    if node[0] == "size":
        found = get_path(item, node[1])
        if not isinstance(found, dict):
            return None
        ((kind, data),) = found.items()
        measure = len(data) if kind in ("S", "B", "L", "M", "SS", "NS", "BS") else None
        return None if measure is None else {"N": str(measure)}
    raise DynamoError.validation("Invalid expression: an operand of an unknown kind")


def holds(node: Node, item: Mapping[str, Any]) -> bool:
    """Whether ``item`` (empty when there is none) meets the condition."""
    kind = node[0]
    if kind == "or":
        return holds(node[1], item) or holds(node[2], item)
    if kind == "and":
        return holds(node[1], item) and holds(node[2], item)
    if kind == "not":
        return not holds(node[1], item)
    if kind == "attribute_exists":
        return get_path(item, node[1]) is not None
    if kind == "attribute_not_exists":
        return get_path(item, node[1]) is None
    if kind == "cmp":
        return _compared(node[1], operand(node[2], item), operand(node[3], item))
    if kind == "between":
        value = operand(node[1], item)
        return _compared(">=", value, operand(node[2], item)) and _compared(
            "<=", value, operand(node[3], item)
        )
    if kind == "in":
        value = operand(node[1], item)
        return any(equal(value, operand(option, item)) for option in node[2])
    return _function_holds(node, item)


def _function_holds(node: Node, item: Mapping[str, Any]) -> bool:
    kind, first, second = node
    left, right = operand(first, item), operand(second, item)
    if not isinstance(left, dict) or not isinstance(right, dict):
        return False
    if kind == "begins_with":
        return "S" in left and "S" in right and str(left["S"]).startswith(str(right["S"]))
    if kind == "attribute_type":
        wanted = right.get("S")
        if wanted not in _TYPES:
            raise DynamoError.validation("Invalid ConditionExpression: an unknown attribute type")
        return wanted in left
    ((left_kind, data),) = left.items()  # contains
    if left_kind == "S":
        return "S" in right and str(right["S"]) in str(data)
    if left_kind in ("SS", "NS", "BS", "L"):
        ((_, wanted_data),) = right.items()
        return wanted_data in data or right in data
    return False


def _compared(comparator: str, left: Any, right: Any) -> bool:
    if comparator == "=":
        return left is not None and equal(left, right)
    if comparator == "<>":
        return left is None or not equal(left, right)
    order = compare(left, right)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[comparator]


def numeric(value: Any, where: str) -> Any:
    if not isinstance(value, dict) or "N" not in value:
        raise DynamoError.validation(
            f"An operand in the update expression has an incorrect data type ({where})"
        )
    return number(value["N"], where)
