"""What every mock system shares: its base class, the gateway chain, ledgers and idempotency."""

from mocks.platform.idempotency import IdempotencyConflict, IdempotencyMismatch, IdempotencyStore
from mocks.platform.ledger import Ledger, LedgerEntry
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = [
    "AuthFailure",
    "IdempotencyConflict",
    "IdempotencyMismatch",
    "IdempotencyStore",
    "Ledger",
    "LedgerEntry",
    "MockService",
    "SystemContext",
]
