"""Idempotency keys with Stripe's semantics, shared by every write endpoint of every mock.

- the same key with the same parameters replays the stored response (and applies nothing);
- the same key with other parameters is refused (the caller gets the system's 400);
- a request whose key is still being processed is refused with a 409 (a concurrent retry).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "IdempotencyConflict",
    "IdempotencyMismatch",
    "IdempotencyStore",
    "StoredResponse",
    "fingerprint",
]


class IdempotencyConflict(Exception):
    """Another request with this key is still in flight."""


class IdempotencyMismatch(Exception):
    """The key was used before with different parameters."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: Any
    headers: tuple[tuple[str, str], ...] = ()


def fingerprint(*parts: Any) -> str:
    """A stable digest of a request's parameters (method, path, body...)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, max_keys: int = 100_000) -> None:
        # Vendors forget keys after a while (Stripe: 24 h); we forget the oldest past a count.
        self._done: OrderedDict[str, tuple[str, StoredResponse]] = OrderedDict()
        self._in_flight: dict[str, object] = {}
        self.max_keys = max_keys

    async def run(
        self,
        key: str | None,
        request_fingerprint: str,
        apply: Callable[[], Awaitable[StoredResponse]],
    ) -> tuple[StoredResponse, bool]:
        """Apply once per key; returns (response, replayed)."""
        if not key:
            return await apply(), False
        done = self._done.get(key)
        if done is not None:
            if done[0] != request_fingerprint:
                raise IdempotencyMismatch(key)
            return done[1], True
        if key in self._in_flight:
            raise IdempotencyConflict(key)
        marker = object()  # ours alone: a reset meanwhile must not let us free another's key
        self._in_flight[key] = marker
        try:
            response = await apply()
        finally:
            still_ours = self._in_flight.get(key) is marker
            if still_ours:
                del self._in_flight[key]
        # Like Stripe, only responses that were processed are stored; 5xx can be retried.
        # After a reset (clear) the answer belongs to a world that no longer exists.
        if still_ours and response.status < 500:
            self._done[key] = (request_fingerprint, response)
            while len(self._done) > self.max_keys:
                self._done.popitem(last=False)
        return response, False

    def clear(self) -> None:
        self._done.clear()
        self._in_flight.clear()
