"""Counting writes against the mocks' ledgers: every effect the integration service
acknowledged is looked up by its idempotency key in the ledger of the system it was for.

Applied once is right; absent is lost (or not delivered yet: drain the outbox first);
a key the ledger lists under ``duplicate_keys`` was applied twice. The crash test and the
benchmark both count this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

__all__ = ["LedgerCount", "count_writes"]


@dataclass
class LedgerCount:
    acknowledged: int = 0
    applied: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def count_writes(
    mocks_url: str, acknowledged: Mapping[str, str], headers: Mapping[str, str]
) -> LedgerCount:
    """``acknowledged`` maps idempotency key -> system; ``headers`` carry the control token."""
    count = LedgerCount(acknowledged=len(acknowledged))
    applied_keys: dict[str, set[str]] = {}
    base = mocks_url.rstrip("/")
    for system in sorted(set(acknowledged.values())):
        ledger = httpx.get(f"{base}/_mock/{system}/ledger", headers=dict(headers), timeout=30)
        ledger.raise_for_status()
        body = ledger.json()
        applied_keys[system] = {e["idempotency_key"] for e in body["entries"]}
        count.duplicates.extend(k for k in body["duplicate_keys"] if k in acknowledged)
    for key, system in acknowledged.items():
        if key in applied_keys[system]:
            count.applied += 1
        else:
            count.lost.append(key)
    return count
