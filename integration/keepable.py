"""Values no store can keep, refused where input is read, by the field that holds them,
before they reach a database, a log or a vendor:

- a lone surrogate (half of a UTF-16 pair, as JSON's ``\\ud800`` escape makes one), which
  cannot be written as UTF-8;
- an integer beyond 64 bits, which neither the databases nor the JSON encoder take;
- NaN or an infinity, which JSON itself has no way to write.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LONE_SURROGATE", "encodable", "unkeepable"]

LONE_SURROGATE = "holds a lone surrogate, which is not Unicode text"
_TOO_BIG = "is a whole number beyond 64 bits"
_NOT_FINITE = "is not a finite number"
_INT64 = 2**63


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unkeepable(value: Any) -> tuple[list[str | int], str] | None:
    """Where in ``value`` (a parsed JSON document) something cannot be kept, as a path of
    keys and indexes, and why; None if everything can."""
    if isinstance(value, str):
        return None if encodable(value) else ([], LONE_SURROGATE)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -_INT64 <= value < _INT64 else ([], _TOO_BIG)
    if isinstance(value, float):
        return None if math.isfinite(value) else ([], _NOT_FINITE)
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and not encodable(key):
            return [key.encode("utf-8", "replace").decode()], LONE_SURROGATE
        found = unkeepable(item)
        if found is not None:
            return [key, *found[0]], found[1]
    return None
