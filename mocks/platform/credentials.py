"""Comparing a credential a client sent with the one a mock expects."""

from __future__ import annotations

import secrets

__all__ = ["same_secret"]


def same_secret(given: str, expected: str) -> bool:
    """Constant-time, and safe for any text: a header may hold any Latin-1 character and a
    form any Unicode, while ``compare_digest`` refuses str with non-ASCII characters."""
    return secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
