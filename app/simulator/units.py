"""Reading the rates and durations people type: ``5/s``, ``300/min``, ``60s``, ``2m``, ``0:30``."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration", "parse_rate"]

_PER = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|min|s|m|h)")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
MAX_RATE_PER_S = 1000.0


def parse_rate(text: str | float | int) -> float:
    """Calls per second from ``"5/s"``, ``"300/min"``, ``"3600/h"`` or a bare number."""
    raw = str(text).strip().lower().replace(" ", "")
    count, _, unit = raw.partition("/")
    if not _NUMBER.match(count):
        raise ValueError(f"rate {text!r}: expected a number of calls, e.g. 5/s, 300/min or 2")
    unit = unit.rstrip("s") if len(unit) > 3 else unit  # "seconds", "minutes", "hours"
    if unit and unit not in _PER:
        raise ValueError(f"rate {text!r}: the unit after '/' must be s, min or h (e.g. 5/s)")
    per_s = float(count) / _PER[unit or "s"]
    if not 0 < per_s <= MAX_RATE_PER_S:
        raise ValueError(f"rate {text!r}: must be above 0 and at most {MAX_RATE_PER_S:g}/s")
    return per_s


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``"60s"``, ``"2m"``, ``"1m30s"``, ``"500ms"``, ``"0:30"``, ``"1:02:03"``
    or a bare number of seconds. Zero is allowed (a timeline's first moment)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"duration {text!r}: must not be negative")
        return float(text)
    raw = str(text).strip().lower().replace(" ", "")
    if _NUMBER.match(raw):
        return float(raw)
    if ":" in raw:
        parts = raw.split(":")
        if len(parts) > 3 or not all(_NUMBER.match(p) for p in parts):
            raise ValueError(f"duration {text!r}: write a clock time as m:ss or h:mm:ss")
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        return seconds
    pieces = _PART.findall(raw)
    if not pieces or "".join(n + u for n, u in pieces) != raw:
        raise ValueError(
            f"duration {text!r}: expected e.g. 60s, 2m, 1m30s, 500ms, 0:30 or a number of seconds"
        )
    return sum(float(n) * _UNIT_S[u] for n, u in pieces)


def format_duration(seconds: float) -> str:
    """``90`` -> ``"1m30s"``, ``45`` -> ``"45s"``, ``120`` -> ``"2m"``, ``2.5`` -> ``"2.5s"``."""
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"
