"""What the layer knows about one call, as stored: the caller view the lookup built, the
state its tools leave for each other, and, read on demand, its transcript, tool results
and hand-over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integration.calls.ids import Origin
from integration.lookup.view import CallerView
from integration.tools.admitted import Booking

__all__ = ["MAX_TOOL_RESULTS", "MAX_TURNS", "CallRecord", "iso_time"]

# A call is minutes long; these only stop a runaway client from growing one without end.
MAX_TURNS = 1000
MAX_TOOL_RESULTS = 200


def iso_time(wall_s: float) -> str:
    return datetime.fromtimestamp(wall_s, UTC).isoformat()


@dataclass
class CallRecord:
    call_id: str
    origin: Origin
    phone: str
    started_at: float  # wall clock, seconds
    view: CallerView
    status: str = "active"  # "active" | "ended"
    worker: str | None = None  # the worker that started it
    booking: Booking | None = None
    handover: dict[str, Any] | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {speaker, text, at_ms}
    tools: list[dict[str, Any]] = field(default_factory=list)  # ToolResult JSON, in order

    @property
    def started_iso(self) -> str:
        return iso_time(self.started_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "phone": self.phone,
            "status": self.status,
            "started_at": self.started_iso,
            "view": self.view.model_dump(mode="json"),
            "transcript": list(self.transcript),
            "tools": list(self.tools),
            "handover": self.handover,
            "worker": self.worker,
        }
