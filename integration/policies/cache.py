"""Last-known-good values per (operation, key), for when a source fails or is too slow.

A cachetools ``LRUCache`` bounds the entries (``max_entries``; the least recently used
goes first). Each entry keeps the injected clock's time it was stored, and its age is
computed on read: cachetools' own ``TTLCache`` would expire entries silently, whereas the
caller needs the age (to say "as of 3 minutes ago") and a value just inside
``max_staleness_s`` is still worth having. An entry older than that is dropped, never
returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from integration.policies.models import CachePolicy

__all__ = ["CachedValue", "LastKnownGood"]


@dataclass(frozen=True)
class CachedValue:
    value: Any
    age_s: float


class LastKnownGood:
    def __init__(self, policy: CachePolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._clock = clock
        self._entries: LRUCache[tuple[str, str], tuple[Any, float]] = LRUCache(
            maxsize=policy.max_entries
        )

    def store(self, operation: str, key: str, value: Any) -> None:
        if self.policy.enabled:
            self._entries[(operation, key)] = (value, self._clock())

    def get(self, operation: str, key: str) -> CachedValue | None:
        if not self.policy.enabled:
            return None
        entry = self._entries.get((operation, key))  # a hit also refreshes its LRU place
        if entry is None:
            return None
        value, stored_at = entry
        age = self._clock() - stored_at
        if age > self.policy.max_staleness_s:
            del self._entries[(operation, key)]
            return None
        return CachedValue(value, max(0.0, age))

    def __len__(self) -> int:
        return len(self._entries)
