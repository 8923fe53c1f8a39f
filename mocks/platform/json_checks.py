"""What no mock may take from a JSON body: deep nesting, and values no store can keep.

Python's ``json`` reads ``NaN``, ``Infinity``, ``1e999``, integers thousands of digits long
and the escape ``"\\ud800"`` (a lone UTF-16 surrogate) without complaint; the damage shows
later, when a stored value has to be written out again: every answer that includes it (a
ledger, an outbox) fails to encode until the system is reset. Nesting a few thousand levels
deep overflows the parser's recursion instead. So the gateway checks each body once, here,
and a system never sees such a value.

Both checks are cheap on ordinary bodies: depth is only scanned when the body holds more
brackets than the limit, and values are only parsed when a regular expression finds
something that could be one of them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["INT64", "JsonFlaw", "deeper_than", "flaw_in", "path_text"]

INT64 = (-(2**63), 2**63 - 1)
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# NaN and Infinity literals, a surrogate escape, a run of digits too long for int64, an
# exponent big enough to overflow a double: anything that may hide an unkeepable value.
_SUSPECT = re.compile(rb"NaN|Infinity|\\u[dD][89abcdefABCDEF]|\d{19}|[eE]\+?\d{3}")
_TOO_BIG = object()  # what an out-of-range integer parses to, so the walk can name it
# A key a flaw's path may show: a name. Free text in a key is only what the client sent.
_NAME = re.compile(r"[A-Za-z0-9_.$@-]{1,64}")
OTHER_KEY = "*"

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class JsonFlaw:
    path: Path  # where, from the body's root (keys that are not names read "*")
    kind: str  # finite_number | int64 | lone_surrogate
    message: str  # says what is wrong with the value at ``path``, never the value


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (outside strings)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def flaw_in(raw: bytes) -> JsonFlaw | None:
    """The first value in a JSON body that no store can keep, or None (also when the body
    is not JSON: the system answers that in its own words)."""
    if _SUSPECT.search(raw) is None:
        return None
    try:
        value = json.loads(raw, parse_int=_bounded_int, parse_constant=float)
    except (ValueError, RecursionError):
        return None
    return _walk(value)


def path_text(path: Sequence[str | int]) -> str:
    """``("lines", 0, "sku")`` -> ``lines[0].sku``, the way a client would write it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "body"


def _bounded_int(digits: str) -> Any:
    # Compared by length first: int() itself refuses past 4,300 digits.
    if len(digits.lstrip("-")) > 19:
        return _TOO_BIG
    number = int(digits)
    return number if INT64[0] <= number <= INT64[1] else _TOO_BIG


def _walk(value: Any) -> JsonFlaw | None:
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if not _is_text(key):
                    return JsonFlaw(path, "lone_surrogate", "has a key that is not valid text")
            stack.extend(((*path, _shown(k)), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
        elif item is _TOO_BIG:
            return JsonFlaw(path, "int64", "must be an integer between -2^63 and 2^63-1")
        elif isinstance(item, float) and not math.isfinite(item):
            return JsonFlaw(path, "finite_number", "must be a finite number")
        elif isinstance(item, str) and not _is_text(item):
            return JsonFlaw(path, "lone_surrogate", "holds a lone UTF-16 surrogate, not text")
    return None


def _shown(key: str) -> str:
    return key if _NAME.fullmatch(key) else OTHER_KEY


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
