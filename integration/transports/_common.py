"""What both transports share: header folding and the guard against a spent time limit."""

from __future__ import annotations

from collections.abc import Iterable

from integration.transports.base import TransportTimeout

__all__ = ["check_time_left", "fold_headers"]


def fold_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; a repeated header becomes one comma-separated value (RFC 9110 5.3)."""
    folded: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        folded[key] = f"{folded[key]}, {value}" if key in folded else value
    return folded


def check_time_left(timeout_s: float) -> None:
    # Both libraries read a zero or negative limit as "no limit at all"; an attempt whose
    # time is already spent must fail at once instead of waiting forever.
    if timeout_s <= 0:
        raise TransportTimeout("no time left for this request")
