"""The unified caller view: every field says where it came from (live, cached or missing)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

__all__ = [
    "FIELDS",
    "CallerView",
    "DuplicateReport",
    "Provenance",
    "Recommendation",
    "RecommendedAction",
    "Sourced",
    "StepTiming",
]

T = TypeVar("T")
RecommendedAction = Literal["carry_on", "use_cached_and_say_so", "escalate"]


class Provenance(BaseModel):
    status: Literal["live", "cached", "missing"]
    system: str
    age_s: float | None = Field(None, description="cached: how old the value is")
    reason: str | None = Field(
        None, description="cached or missing: why not live (timeout, breaker_open, not_found...)"
    )
    injected_fault: str | None = Field(None, description="the fault the mock said it injected")
    latency_ms: float | None = None
    gateway: str | None = Field(
        None, description="the middleware the value came through (the system map's path)"
    )
    field: str | None = Field(
        None, description="invalid_field: where the answer was wrong (items[0].status)"
    )


class Sourced(BaseModel, Generic[T]):
    value: T | None = None
    provenance: Provenance


class DuplicateReport(BaseModel):
    count: int
    chosen_id: str
    other_ids: list[str]
    rule: str
    differing_fields: list[str]
    same_customer: bool


class Recommendation(BaseModel):
    action: RecommendedAction
    reason: str
    missing: list[str] = []
    cached: list[str] = []


class StepTiming(BaseModel):
    step: str
    system: str
    started_ms: float
    duration_ms: float
    status: Literal["live", "cached", "missing"]
    reason: str | None = None
    attempts: int = 0
    injected_fault: str | None = None


# The view's sourced fields, in the order a person reads them.
FIELDS = (
    "contact",
    "accounts",
    "eligibility",
    "call_history",
    "loans",
    "orders",
    "holdings",
    "caller_flags",
)


def _not_asked() -> Sourced[dict[str, Any]]:
    """A view recorded before the caller lists were read (or without a lookup)."""
    return Sourced(provenance=Provenance(status="missing", system="sheets", reason="not_asked"))


class CallerView(BaseModel):
    phone: str
    customer_id: str | None
    contact: Sourced[dict[str, Any]]
    duplicates: DuplicateReport | None = None
    accounts: Sourced[list[dict[str, Any]]]
    eligibility: Sourced[dict[str, Any]]
    call_history: Sourced[list[dict[str, Any]]]
    loans: Sourced[list[dict[str, Any]]]
    orders: Sourced[list[dict[str, Any]]]
    # The legacy core's customer record and holdings (SOAP): KYC flag, available balances.
    holdings: Sourced[dict[str, Any]]
    # The contact centre's hand-kept lists (Google Sheets): {"vip", "vip_tier",
    # "do_not_call", "do_not_call_reason"} for the caller's number; not essential.
    caller_flags: Sourced[dict[str, Any]] = Field(default_factory=_not_asked)
    recommendation: Recommendation
    deadline_ms: float  # as the caller asked for it
    queued_ms: float = 0.0  # the wait before the lookup began, spent out of the deadline
    elapsed_ms: float
    steps: list[StepTiming]

    def degraded_fields(self) -> list[str]:
        """Fields not live because a source failed: cached copies, and missing ones other
        than those the sources answered do not exist (an unknown caller is not degraded)."""
        answered = ("not_found", "no_customer", "not_asked")
        return [
            name
            for name in FIELDS
            if (source := getattr(self, name).provenance).status == "cached"
            or (source.status == "missing" and source.reason not in answered)
        ]
