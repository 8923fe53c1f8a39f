"""The part of JQL an integration uses to find its own tickets:

    project = CC AND status != Done AND labels in (escalation, sb-call-42)
    summary ~ "card dispute" ORDER BY created DESC

Clauses joined by ``AND``; fields ``project``, ``status``, ``labels``, ``issuetype`` (or
``type``), ``priority``, ``key``, ``reporter``; operators ``=``, ``!=``, ``in``, ``not in``
and ``~`` (contains, on ``summary``, ``description`` and ``text``); ``ORDER BY created``,
``updated``, ``key`` or ``priority``, ``ASC`` or ``DESC``. Anything else is a 400 that says
which part of the grammar it broke, not what it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mocks.tracker.errors import JiraError

__all__ = ["Query", "parse_jql"]

MAX_JQL = 2000
_TOKEN = re.compile(
    r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<op>!=|!~|[=~(),])|(?P<word>[^\s=!~(),"]+))'
)
FIELDS = ("project", "status", "labels", "issuetype", "type", "priority", "key", "reporter")
TEXT_FIELDS = ("summary", "description", "text")
ORDER_FIELDS = ("created", "updated", "key", "priority")

Clause = Callable[[dict[str, Any]], bool]


def _bad(why: str) -> JiraError:
    return JiraError(400, [f"Error in the JQL Query: {why}."])


@dataclass(frozen=True)
class Query:
    clauses: tuple[tuple[str, str, tuple[str, ...]], ...]
    order: tuple[str, bool]  # (field, descending)


def _tokens(text: str) -> list[tuple[str, str]]:
    found = []
    at, text = 0, text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise _bad("a character the query language does not take")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        found.append((kind, value.replace('\\"', '"') if kind == "quoted" else value))
        at = match.end()
    return found


def parse_jql(text: str) -> Query:
    if len(text) > MAX_JQL:
        raise _bad(f"the query is longer than {MAX_JQL} characters")
    tokens = _tokens(text)
    clauses: list[tuple[str, str, tuple[str, ...]]] = []
    order = ("created", True)
    at = 0

    def word(index: int) -> str:
        return (
            tokens[index][1].lower() if index < len(tokens) and tokens[index][0] == "word" else ""
        )

    while at < len(tokens):
        if word(at) == "order" and word(at + 1) == "by":
            order, at = _order(tokens, at + 2)
            break
        if clauses:
            if word(at) != "and":
                raise _bad("clauses are joined by AND (OR is not supported here)")
            at += 1
        clause, at = _clause(tokens, at)
        clauses.append(clause)
    if at < len(tokens):
        raise _bad("unexpected text after ORDER BY")
    return Query(tuple(clauses), order)


def _clause(tokens: list[tuple[str, str]], at: int) -> tuple[tuple[str, str, tuple[str, ...]], int]:
    if at >= len(tokens) or tokens[at][0] != "word":
        raise _bad("expected a field name")
    name = tokens[at][1].lower()
    if name not in FIELDS + TEXT_FIELDS:
        raise _bad(f"the field is not one this server searches ({', '.join(FIELDS + TEXT_FIELDS)})")
    at += 1
    if at >= len(tokens):
        raise _bad("expected an operator")
    kind, op = tokens[at]
    op = op.lower()
    if (
        kind == "word"
        and op == "not"
        and at + 1 < len(tokens)
        and tokens[at + 1][1].lower() == "in"
    ):
        op, at = "not in", at + 1
    elif not ((kind == "word" and op == "in") or (kind == "op" and op in ("=", "!=", "~"))):
        raise _bad("expected an operator (=, !=, ~, in, not in)")
    at += 1
    if (op == "~") != (name in TEXT_FIELDS):
        raise _bad("~ is for summary, description and text; the other fields take = != in")
    if op in ("in", "not in"):
        return _list(tokens, at, name, op)
    if at >= len(tokens) or tokens[at][0] == "op":
        raise _bad("expected a value")
    return (name, op, (tokens[at][1],)), at + 1


def _list(tokens: list[tuple[str, str]], at: int, name: str, op: str) -> tuple[Any, int]:
    if at >= len(tokens) or tokens[at][1] != "(":
        raise _bad("in takes a list in parentheses")
    values: list[str] = []
    at += 1
    while True:
        if at >= len(tokens) or tokens[at][0] == "op":
            raise _bad("expected a value in the list")
        values.append(tokens[at][1])
        at += 1
        if at < len(tokens) and tokens[at][1] == ",":
            at += 1
            continue
        if at < len(tokens) and tokens[at][1] == ")":
            return (name, op, tuple(values)), at + 1
        raise _bad("a list ends with )")


def _order(tokens: list[tuple[str, str]], at: int) -> tuple[tuple[str, bool], int]:
    if at >= len(tokens) or tokens[at][1].lower() not in ORDER_FIELDS:
        raise _bad(f"ORDER BY takes one of {', '.join(ORDER_FIELDS)}")
    field = tokens[at][1].lower()
    at += 1
    descending = field != "key"
    if at < len(tokens) and tokens[at][1].lower() in ("asc", "desc"):
        descending = tokens[at][1].lower() == "desc"
        at += 1
    return (field, descending), at
