"""Idempotency keys with Stripe's semantics, shared by every write endpoint of every mock.

- the same key with the same parameters replays the stored response (and applies nothing);
- the same key with other parameters is refused (the caller gets the system's 400);
- a request whose key is still being processed is refused with a 409 (a concurrent retry).
"""

from __future__ import annotations

import hashlib
import json
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
    def __init__(self) -> None:
        self._done: dict[str, tuple[str, StoredResponse]] = {}
        self._in_flight: dict[str, str] = {}

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
        self._in_flight[key] = request_fingerprint
        try:
            response = await apply()
        finally:
            del self._in_flight[key]
        # Like Stripe, only responses that were processed are stored; 5xx can be retried.
        if response.status < 500:
            self._done[key] = (request_fingerprint, response)
        return response, False

    def clear(self) -> None:
        self._done.clear()
        self._in_flight.clear()
