"""Per-system resilience policies as validated, immutable values (edited in YAML).

They live in the system map, ``integration/config/system_map.yaml``: ``defaults``, each
system's ``policy`` (only what differs, merged over the defaults before validation, so a
typo in a field name or a negative timeout is refused with the path of the field) and the
``outbox`` section. The rest of the map (owners, SLAs, flows) is read by
``integration.systemmap``; this module reads only the policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "BreakerPolicy",
    "BulkheadPolicy",
    "CachePolicy",
    "HedgePolicy",
    "OutboxPolicy",
    "PolicyBook",
    "RateLimitPolicy",
    "RetryBudgetPolicy",
    "RetryPolicy",
    "SystemPolicy",
    "TimeoutPolicy",
    "deep_merge",
    "load_policy_book",
]

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent / "config" / "system_map.yaml"
# Keys of the system map that are not policies (validated by integration.systemmap).
_MAP_KEYS = frozenset({"teams", "flows"})


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeoutPolicy(_Policy):
    per_attempt_ms: float = Field(
        default=300, gt=0, description="one attempt's limit (also capped by the deadline)"
    )


class RetryPolicy(_Policy):
    """Exponential backoff with full jitter; only idempotent operations are retried."""

    max_attempts: int = Field(default=3, ge=1, le=50, description="first try included")
    base_ms: float = Field(
        default=25, gt=0, description="backoff before the 2nd attempt is drawn from [0, base]"
    )
    cap_ms: float = Field(default=1000, gt=0, description="the backoff never exceeds this")
    honour_retry_after: bool = True
    max_retry_after_s: float = Field(
        default=5, ge=0, description="a longer Retry-After is not waited for"
    )


class RetryBudgetPolicy(_Policy):
    """Retries may add at most ``ratio`` of the successful traffic (plus a small floor)."""

    ratio: float = Field(default=0.1, ge=0, le=1)
    min_per_s: float = Field(default=1.0, ge=0, description="retries always allowed per second")
    window_s: float = Field(default=10, gt=0)


class BreakerPolicy(_Policy):
    """Opens on failure rate or slow-call rate over a sliding time window."""

    window_s: float = Field(default=10, gt=0)
    min_calls: int = Field(default=10, ge=1, description="no verdict on fewer calls than this")
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    slow_call_ms: float = Field(default=500, gt=0)
    slow_call_rate: float = Field(default=0.8, gt=0, le=1)
    open_s: float = Field(default=5, gt=0, description="how long it stays open before probing")
    half_open_probes: int = Field(default=3, ge=1, description="successful probes needed to close")


class BulkheadPolicy(_Policy):
    max_concurrent: int = Field(default=64, ge=1)


class RateLimitPolicy(_Policy):
    """The vendor's quota, respected on our side (aiolimiter)."""

    requests: int = Field(..., gt=0)
    per_s: float = Field(..., gt=0)


class HedgePolicy(_Policy):
    """For idempotent reads: a second attempt when the first runs past the source's p95."""

    enabled: bool = False
    percentile: float = Field(default=95, gt=50, lt=100)
    min_delay_ms: float = Field(default=10, ge=0)
    min_samples: int = Field(default=50, ge=1, description="latency samples before hedging starts")


class CachePolicy(_Policy):
    """Last-known-good values, per key, used when the source fails or is too slow."""

    enabled: bool = True
    max_staleness_s: float = Field(default=24 * 3600, gt=0)
    max_entries: int = Field(default=100_000, ge=1)
    # A whole-list read younger than this is used as it is, without asking the source (a
    # list every caller needs, under a per-minute quota: one read serves a burst of calls).
    fresh_s: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _fresh_within_staleness(self) -> CachePolicy:
        if self.fresh_s > self.max_staleness_s:
            raise ValueError("fresh_s must not exceed max_staleness_s")
        return self


class SystemPolicy(_Policy):
    timeout: TimeoutPolicy = TimeoutPolicy()
    retry: RetryPolicy = RetryPolicy()
    retry_budget: RetryBudgetPolicy = RetryBudgetPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    bulkhead: BulkheadPolicy = BulkheadPolicy()
    rate_limit: RateLimitPolicy | None = None
    hedge: HedgePolicy = HedgePolicy()
    cache: CachePolicy = CachePolicy()


class OutboxPolicy(_Policy):
    """How the dispatcher delivers post-call effects. Its retries span minutes, not a turn:
    ``retry`` is the backoff between delivery attempts, and a Retry-After is always waited
    out (``max_retry_after_s`` caps how long)."""

    retry: RetryPolicy = RetryPolicy(
        max_attempts=20, base_ms=500, cap_ms=60_000, max_retry_after_s=300
    )
    max_age_s: float = Field(
        default=24 * 3600,
        gt=0,
        description="older undelivered effects go to the dead letters (vendors keep "
        "idempotency keys about this long: Stripe 24 h)",
    )
    lease_s: float = Field(
        default=30, gt=0, description="a claimed effect is another dispatcher's after this"
    )
    poll_ms: float = Field(default=200, gt=0, description="how often to look for due effects")
    breaker_wait_s: float = Field(
        default=1.0, gt=0, description="how soon to look again at an effect whose breaker is open"
    )


class AdmissionPolicy(_Policy):
    """When a worker turns a new call away at once instead of letting it queue. Calls
    already under way are always served: the headroom this keeps is theirs."""

    max_queue_ms: float = Field(
        default=100,
        gt=0,
        description="refuse new calls while the event loop runs this late (the wait a new "
        "request would have before being looked at)",
    )
    target_lag_ms: float = Field(
        default=10, gt=0, description="while the loop is always this late, the limit shrinks"
    )
    late_fraction: float = Field(
        default=1.2,
        gt=0,
        le=2,
        description="while the starts of a window are answered after this share of their "
        "deadline on median, the limit shrinks (a lookup stops at its deadline whatever "
        "its sources do: only queueing in the worker makes it much later than that)",
    )
    max_wait_ms: float = Field(
        default=40,
        ge=0,
        le=1000,
        description="a start that finds the limit reached waits this long for a slot at most "
        "(spent out of its deadline), then is refused; 0: refused at once",
    )
    initial_limit: int = Field(default=24, ge=1, description="call starts in flight at first")
    min_limit: int = Field(default=4, ge=1)
    max_limit: int = Field(default=512, ge=1)
    sample_ms: float = Field(default=5, gt=0, description="how often the loop's lag is measured")
    window_ms: float = Field(default=100, gt=0, description="the lag is the worst over this")
    retry_after_s: int = Field(default=1, ge=0, le=60, description="sent with a refusal")

    @model_validator(mode="after")
    def _limits_ordered(self) -> AdmissionPolicy:
        if not self.min_limit <= self.initial_limit <= self.max_limit:
            raise ValueError("min_limit <= initial_limit <= max_limit")
        return self


class PolicyBook(_Policy):
    """The policies of every system; ``for_system`` falls back to the defaults."""

    defaults: SystemPolicy = SystemPolicy()
    systems: dict[str, SystemPolicy] = Field(default_factory=dict)
    outbox: OutboxPolicy = OutboxPolicy()
    admission: AdmissionPolicy = AdmissionPolicy()

    def for_system(self, system: str) -> SystemPolicy:
        return self.systems.get(system, self.defaults)

    def shared_by(self, workers: int) -> PolicyBook:
        """The book for one of ``workers`` processes sharing the vendors' quotas: each takes
        an equal share of every rate limit (at least one request), so together they never
        exceed it. A static split rather than a shared bucket: counting every request in
        the store would cost a transaction per request, and workers behind one port get
        requests evenly enough that an equal share wastes little of the quota."""
        if workers <= 1:
            return self

        def share(policy: SystemPolicy) -> SystemPolicy:
            limit = policy.rate_limit
            if limit is None:
                return policy
            requests = max(1, limit.requests // workers)
            return policy.model_copy(
                update={"rate_limit": limit.model_copy(update={"requests": requests})}
            )

        return self.model_copy(
            update={
                "defaults": share(self.defaults),
                "systems": {name: share(p) for name, p in self.systems.items()},
            }
        )

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> PolicyBook:
        """Validate ``{"defaults": {...}, "systems": {name: partial}}``, merging partials."""
        defaults_raw = raw.get("defaults") or {}
        unknown = set(raw) - {"defaults", "systems", "outbox", "admission"} - _MAP_KEYS
        if unknown:
            raise ValueError(
                f"unknown top-level keys {sorted(unknown)}; expected defaults, systems, "
                "outbox, admission, teams, flows"
            )
        defaults = SystemPolicy.model_validate(defaults_raw)
        systems: dict[str, SystemPolicy] = {}
        errors: list[str] = []
        for name, entry in (raw.get("systems") or {}).items():
            partial = _policy_part(entry or {})
            try:
                systems[name] = SystemPolicy.model_validate(deep_merge(defaults_raw, partial))
            except ValidationError as exc:
                errors.extend(
                    f"systems.{name}.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in exc.errors()
                )
        parts: dict[str, Any] = {}
        for key, model in (("outbox", OutboxPolicy), ("admission", AdmissionPolicy)):
            try:
                parts[key] = model.model_validate(raw.get(key) or {})
            except ValidationError as exc:
                errors.extend(
                    f"{key}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
        if errors:
            raise ValueError("invalid policies:\n  " + "\n  ".join(errors))
        return cls(defaults=defaults, systems=systems, **parts)


def _policy_part(entry: dict[str, Any]) -> dict[str, Any]:
    """A system entry's policy: its ``policy`` block, and any policy field written beside
    it (a bare policy file, or an override a test or benchmark lays over the map)."""
    loose = {k: v for k, v in entry.items() if k in SystemPolicy.model_fields}
    return deep_merge(entry.get("policy") or {}, loose)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: nested mappings merge key by key, the rest replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_policy_book(path: Path = DEFAULT_POLICY_FILE) -> PolicyBook:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return PolicyBook.from_mapping(raw)
    except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
