"""Record ids for what the mock creates at runtime, shaped like real Salesforce ids.

An 18-char id is key prefix (3) + pod (2) + reserved "0" + 9 base62 digits + a 3-char
case-safe suffix. Seeded records use another pod, so runtime ids never collide with them.
"""

from __future__ import annotations

import itertools

from mocks.dataset._ids import base62, case_safe_suffix

__all__ = ["IdFactory", "case_safe_suffix", "to_18"]

_RUNTIME_POD = "5W"


def to_18(record_id: str) -> str:
    """The 18-char form of a 15-char id (clients may send either); others unchanged."""
    if len(record_id) == 15 and record_id.isalnum():
        return record_id + case_safe_suffix(record_id)
    return record_id


class IdFactory:
    """Ascending ids per key prefix, counting from a fixed start so runs are repeatable."""

    def __init__(self, start: int = 62**5) -> None:
        self._counter = itertools.count(start)

    def new(self, key_prefix: str) -> str:
        id15 = f"{key_prefix}{_RUNTIME_POD}0{base62(next(self._counter), 9)}"
        return id15 + case_safe_suffix(id15)
