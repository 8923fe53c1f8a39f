"""Tokens, string literals and LIKE patterns for the mock CRM's SOQL subset.

Kept apart from the parser so `soql.py` reads as grammar plus evaluation. Everything
here is private; the public surface is `mocks.crm.soql`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "RESERVED",
    "SoqlError",
    "Token",
    "decode_string",
    "described",
    "like_matcher",
    "located",
    "tokenize",
]


class SoqlError(Exception):
    """A query Salesforce would refuse; `error_code` is the real REST `errorCode`."""

    def __init__(self, message: str, error_code: str = "MALFORMED_QUERY") -> None:
        super().__init__(message, error_code)  # both in args, so it pickles intact
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def located(text: str, pos: int, detail: str) -> str:
    """Render `detail` the way Salesforce does, from Row:Column on. Salesforce also repeats
    the query's line with a caret under the token; this mock never repeats what was sent,
    so the position alone says where (and `detail` never quotes the query's own text)."""
    row = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"\nERROR at Row:{row}:Column:{col}\n{detail}"


# Words SOQL reserves: they can never be field or object names, so seeing one where a
# name belongs is a syntax error rather than an unknown field.
RESERVED = frozenset(
    {
        "AND",
        "ASC",
        "BY",
        "DESC",
        "EXCLUDES",
        "FALSE",
        "FIRST",
        "FROM",
        "GROUP",
        "HAVING",
        "IN",
        "INCLUDES",
        "LAST",
        "LIKE",
        "LIMIT",
        "NOT",
        "NULL",
        "NULLS",
        "OFFSET",
        "OR",
        "ORDER",
        "SELECT",
        "TRUE",
        "USING",
        "WHERE",
        "WITH",
    }
)
_FUNCTIONS = frozenset({"COUNT"})
_KINDS = {"ident": "a name", "string": "a string literal", "number": "a number"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident | string | number | op | punct | eof
    text: str  # exactly as written (strings keep their quotes and escapes)
    pos: int  # 0-based offset into the query, for error positions


def described(tok: Token) -> str:
    """How an error names a token: the language's own words (keywords, operators,
    punctuation, the end) as SOQL spells them; anything the query made up by its kind."""
    if tok.kind in ("op", "punct", "eof"):
        return f"'{tok.text}'"
    if tok.kind == "ident" and tok.text.upper() in RESERVED | _FUNCTIONS:
        return f"'{tok.text.upper()}'"
    return _KINDS.get(tok.kind, "a token")


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)
  | (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch == "'":
                raise SoqlError(located(text, pos, "unterminated string literal"))
            raise SoqlError(located(text, pos, "unexpected character"))
        kind = m.lastgroup
        assert kind is not None
        if kind == "date":
            # Date fields need typed comparison this mock does not model; say so plainly
            # instead of mis-tokenising 2024-01-31 as three numbers.
            raise SoqlError(located(text, pos, "date literals are not supported by this mock"))
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", end))
    return tokens


_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_LIKE_ONLY = frozenset("%_")
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)


def decode_string(token: Token, query: str, *, like: bool = False) -> str:
    """The value of a quoted literal.

    With `like=True`, the LIKE-only escapes \\% and \\_ survive as the private-use
    characters below so `like_matcher` can tell a literal % from a wildcard.
    """
    body = token.text[1:-1]
    if "\\" not in body:
        return body

    def one(m: re.Match[str]) -> str:
        seq = m.group(1)
        if seq in _ESCAPES:
            return _ESCAPES[seq]
        if len(seq) == 5:
            return chr(int(seq[1:], 16))
        if like and seq in _LIKE_ONLY:
            return _LITERAL_PERCENT if seq == "%" else _LITERAL_UNDERSCORE
        where = token.pos + 1 + m.start()
        hint = " (only valid in a LIKE pattern)" if seq in _LIKE_ONLY else ""
        raise SoqlError(located(query, where, f"invalid escape sequence{hint}"))

    return _ESCAPE_RE.sub(one, body)


# Stand-ins for escaped wildcards; private-use code points never occur in CRM data.
_LITERAL_PERCENT = "\ue000"
_LITERAL_UNDERSCORE = "\ue001"


def like_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive whole-value matcher for a decoded LIKE pattern.

    The common shapes (exact, 'abc%', '%abc', '%abc%') become str methods on the
    lowercased value, which are several times faster than a regex on a 100k-row scan.
    """
    low = pattern.lower()
    inner = low.strip("%")
    plain = "_" not in inner and "%" not in inner
    inner = inner.replace(_LITERAL_PERCENT, "%").replace(_LITERAL_UNDERSCORE, "_")
    if plain:
        starts, ends = low.startswith("%"), low.endswith("%") and len(low) > 1
        if starts and ends:
            return lambda v: inner in v.lower()
        if starts:
            return lambda v: v.lower().endswith(inner)
        if ends:
            return lambda v: v.lower().startswith(inner)
        return lambda v: v.lower() == inner
    parts: list[str] = []
    for ch in low:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        elif ch == _LITERAL_PERCENT:
            parts.append("%")
        elif ch == _LITERAL_UNDERSCORE:
            parts.append("_")
        else:
            parts.append(re.escape(ch))
    fullmatch = re.compile("".join(parts), re.DOTALL).fullmatch
    return lambda v: fullmatch(v.lower()) is not None
