"""Values the write path passes around: an effect to apply, and an effect as stored.

An effect is one write a finished call owes a system (a CRM update, a booking, a text
message...). ``plan`` turns a call's outcome into ``EffectSpec`` values, the store keeps
them as ``EffectRow`` values, and the dispatcher delivers them. A dependent effect may
quote what an earlier one returned with ``${name.field}`` placeholders in its payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEAD_REASONS",
    "EFFECT_NAME",
    "EFFECT_STATUSES",
    "EffectRow",
    "EffectSpec",
    "idempotency_key",
    "iso_or_none",
    "resolve_placeholders",
]

EFFECT_STATUSES = ("pending", "in_flight", "delivered", "dead")
# "superseded": a dead charge whose payment a person took on instead (manual processing);
# it never replays, or the card would be charged twice.
DEAD_REASONS = ("rejected", "max_attempts", "expired", "dependency_dead", "superseded")
EFFECT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]{0,39})\.([A-Za-z0-9_]{1,64})\}")


def idempotency_key(call_id: str, name: str) -> str:
    """The same effect of the same call always carries the same key, across restarts and
    dispatchers, so a vendor that honours keys applies it once however often it is sent."""
    return f"sb:{call_id}:{name}"


@dataclass(frozen=True)
class EffectSpec:
    name: str
    system: str
    kind: str
    payload: dict[str, Any]
    depends_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not EFFECT_NAME.match(self.name):
            raise ValueError(f"effect name {self.name!r} must match {EFFECT_NAME.pattern}")
        unknown = [d for d in self.depends_on if not EFFECT_NAME.match(d) or d == self.name]
        if unknown:
            raise ValueError(f"effect {self.name!r} has bad dependencies {unknown}")


@dataclass(frozen=True)
class EffectRow:
    id: int
    call_id: str
    name: str
    system: str
    kind: str
    payload: dict[str, Any]
    depends_on: tuple[str, ...]
    idempotency_key: str
    status: str  # pending | delivered | dead (in flight = pending under a live lease)
    attempts: int
    created_at: float  # epoch seconds: the store outlives the process
    next_attempt_at: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    delivered_at: float | None = None
    last_error: str | None = None
    dead_reason: str | None = None
    result: dict[str, Any] | None = None

    def shown_status(self, now: float) -> str:
        leased = self.lease_until is not None and self.lease_until > now
        return "in_flight" if self.status == "pending" and leased else self.status

    def view(self, now: float) -> dict[str, Any]:
        """The effect as the API shows it (times as ISO 8601 UTC)."""
        end = self.delivered_at if self.delivered_at is not None else now
        return {
            "id": self.id,
            "call_id": self.call_id,
            "name": self.name,
            "system": self.system,
            "kind": self.kind,
            "status": self.shown_status(now),
            "attempts": self.attempts,
            "idempotency_key": self.idempotency_key,
            "depends_on": list(self.depends_on),
            "created_at": iso_or_none(self.created_at),
            "next_attempt_at": iso_or_none(self.next_attempt_at)
            if self.status == "pending"
            else None,
            "delivered_at": iso_or_none(self.delivered_at),
            "age_s": round(max(0.0, end - self.created_at), 3),
            "last_error": self.last_error,
            "dead_reason": self.dead_reason,
            "result": self.result,
        }


def iso_or_none(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")


def resolve_placeholders(value: Any, results: dict[str, dict[str, Any]]) -> Any:
    """``value`` with every ``${name.field}`` in its strings replaced by ``results[name][field]``.

    A placeholder whose dependency or field is unknown raises KeyError: delivering a
    confirmation that says "${booking.id}" to a caller is worse than not delivering it.
    """
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: str(results[m.group(1)][m.group(2)]), value)
    if isinstance(value, dict):
        return {k: resolve_placeholders(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(v, results) for v in value]
    return value
