"""The ledger of effects a mock system applied, so tests can count exactly-once delivery."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Ledger", "LedgerEntry"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    at: str  # ISO 8601, UTC
    operation: str  # e.g. "sobject.create", "payment_intent.confirm"
    resource: str  # the id of what was created or changed
    idempotency_key: str | None
    detail: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """Append-only list of applied effects. A replayed request must not add an entry."""

    def __init__(self, system: str, now: Callable[[], datetime] = _utc_now) -> None:
        self.system = system
        self._now = now
        self._entries: list[LedgerEntry] = []
        self._lock = threading.Lock()

    def record(
        self,
        operation: str,
        resource: str,
        idempotency_key: str | None = None,
        **detail: Any,
    ) -> LedgerEntry:
        with self._lock:
            entry = LedgerEntry(
                seq=len(self._entries) + 1,
                at=self._now().isoformat(),
                operation=operation,
                resource=resource,
                idempotency_key=idempotency_key,
                detail=detail,
            )
            self._entries.append(entry)
        return entry

    def entries(self, since: int = 0, operation: str | None = None) -> list[LedgerEntry]:
        return [e for e in self._entries[since:] if operation is None or e.operation == operation]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def as_json(self, since: int = 0, operation: str | None = None) -> dict[str, Any]:
        entries = self.entries(since, operation)
        # One request may apply several effects under its key; the same effect twice is a dup.
        seen: dict[tuple[str, str], int] = {}
        for entry in entries:
            if entry.idempotency_key:
                slot = (entry.idempotency_key, entry.operation)
                seen[slot] = seen.get(slot, 0) + 1
        return {
            "system": self.system,
            "count": len(entries),
            "duplicate_keys": sorted({key for (key, _), n in seen.items() if n > 1}),
            "entries": [asdict(e) for e in entries],
        }
