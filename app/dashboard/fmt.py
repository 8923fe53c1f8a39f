"""Numbers as people read them at a glance."""

from __future__ import annotations

__all__ = ["age", "ms", "pct", "rate"]


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def pct(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share:.0%}" if share >= 0.01 or share == 0 else "<1%"


def rate(per_s: float | None, unit: str = "/s") -> str:
    if per_s is None:
        return "…"
    if per_s == 0:
        return f"0{unit}"
    return f"{per_s:.1f}{unit}" if per_s < 100 else f"{per_s:,.0f}{unit}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
