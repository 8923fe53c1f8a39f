"""Plain words for what the stack reports: failure reasons, timeline actions, times.

Only wording lives here; what is said, and when, is decided by ``narration.py`` from what
really happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.dashboard.chaosform import describe_profile
from app.dashboard.systems import display_name

__all__ = ["REASONS", "clock", "fault_words", "name", "owns", "reason", "seconds"]

# An attempt's or a delivery's outcome slug (integration.errors), as a person says it.
REASONS: dict[str, str] = {
    "unavailable": "not answering",
    "timeout": "too slow, timed out",
    "rate_limited": "rate limited, 429",
    "credentials_rejected": "credentials refused, 401",
    "malformed_response": "answering garbage",
    "breaker_open": "its breaker is open",
    "bulkhead_full": "too many calls in flight",
    "retry_budget_exhausted": "retry budget spent",
    "deadline_exceeded": "out of time for the caller's turn",
    "rejected": "rejected by the vendor",
    "not_found": "not found",
    "expired": "expired before delivery",
    "max_attempts": "every attempt failed",
    "internal": "an internal error",
}


def name(system: str | None) -> str:
    return display_name(system) if system else "the layer"


def owns(system: str | None) -> str:
    """``CRM's``, ``Payments'``."""
    who = name(system)
    return f"{who}'" if who.endswith("s") else f"{who}'s"


def reason(slug: str | None) -> str:
    return REASONS.get(slug or "", (slug or "an error").replace("_", " "))


def clock(at_s: float) -> str:
    """Seconds since the demo started as a presenter reads them: ``1:05``."""
    whole = max(0, int(at_s))  # the second it happened in, as a stopwatch shows it
    return f"{whole // 60}:{whole % 60:02d}"


def seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def fault_words(action: str, system: str, event: Mapping[str, Any]) -> str:
    """What a scenario's timeline event did to ``system``, in a sentence without a verb tense
    of its own (the narrator adds the note and the time)."""
    who = name(system)
    took = seconds(event.get("seconds"))
    if action == "outage":
        return f"{who} is down: an outage for {took}"
    if action == "lock":
        return f"{who} is locked for {took}: a batch job holds the write lock, reads queue"
    if action == "slow":
        return f"{who} is slow for {took}: queries queue behind a lock taken again and again"
    if action == "faults":
        return f"{who} is faulted: {describe_profile(event.get('profile'))}"
    if action == "batch_window":
        return f"{who} opens its batch window for {took}: it refuses every request meanwhile"
    if action == "transform":
        faults = event.get("transform") or {}
        count = len(faults.get("faults") or ()) if isinstance(faults, Mapping) else 0
        return f"{who} drops or mangles fields of its answers ({count} field fault(s))"
    if action == "callbacks":
        return f"{owns(system)} status callbacks are bent (late, doubled or reordered)"
    if action == "credentials_expire":
        ttl = event.get("ttl")
        extra = f"; new sessions last only {seconds(ttl)}" if ttl else ""
        return f"every {who} session is revoked (a 401 storm){extra}"
    return f"{who}: {action}"
