"""What one simulated call left behind: its transcript, its tool calls, its verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "CALL_STATUSES",
    "CallResult",
    "CallStatus",
    "EffectAck",
    "Line",
    "ToolCall",
    "percentile",
]

CallStatus = Literal["ok", "degraded", "escalated", "failed"]
CALL_STATUSES: tuple[CallStatus, ...] = ("ok", "degraded", "escalated", "failed")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Line:
    """One line of the transcript, ``at_ms`` after the call started."""

    speaker: Literal["caller", "agent"]
    text: str
    at_ms: float


@dataclass
class ToolCall:
    name: str
    status: str  # ok | degraded | failed, or "error" when the API itself did not answer 200
    latency_ms: float  # measured by the simulator, request to answer
    say: str = ""
    filler_needed: bool = False
    escalate_reason: str | None = None
    effect_ids: list[Any] = field(default_factory=list)
    http_status: int | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class EffectAck:
    """A write the service acknowledged as durable (it answered after queueing it)."""

    system: str
    idempotency_key: str
    effect_id: int | None
    via: str  # "end" or the tool that queued it


@dataclass
class CallResult:
    call_id: str
    journey: str
    persona: str
    started_s: float  # since the run began
    status: CallStatus = "ok"
    duration_ms: float = 0.0
    lookup_ms: float | None = None  # as the client waited for it
    lookup_action: str | None = None
    # Each field of the caller view that was not live, and why (its provenance's reason).
    lookup_not_live: dict[str, str] = field(default_factory=dict)
    tools: list[ToolCall] = field(default_factory=list)
    filler_count: int = 0
    effects: list[EffectAck] = field(default_factory=list)
    transcript: list[Line] = field(default_factory=list)
    escalation: str | None = None  # why the call went to a person
    escalation_planned: bool = False  # the caller asked for one (complaint journey)
    disposition: str | None = None
    ended: bool = False  # the end was acknowledged
    problems: list[str] = field(default_factory=list)

    def mark(self, status: CallStatus) -> None:
        """Raise the verdict; it never goes back down (failed > escalated > degraded > ok)."""
        if CALL_STATUSES.index(status) > CALL_STATUSES.index(self.status):
            self.status = status

    def heard(self) -> list[str]:
        """The agent's lines that came from tool results (what the caller was told)."""
        return [tool.say for tool in self.tools if tool.say]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
