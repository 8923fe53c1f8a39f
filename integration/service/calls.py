"""Calls the service has seen, kept in memory (newest last, bounded), each with its
transcript, its tool results and, once handed over, the hand-over."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integration.lookup.view import CallerView

__all__ = [
    "CALL_ID_PATTERN",
    "MAX_TOOL_RESULTS",
    "MAX_TURNS",
    "CallRecord",
    "CallRegistry",
    "new_call_id",
]

# Call ids become idempotency keys (``sb:<call_id>:<effect>``), so they stay short and plain.
CALL_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# A call is minutes long; these only stop a runaway client from growing one without end.
MAX_TURNS = 1000
MAX_TOOL_RESULTS = 200


def new_call_id() -> str:
    return "call_" + secrets.token_hex(8)


@dataclass
class CallRecord:
    call_id: str
    phone: str
    started_at: str
    view: CallerView
    status: str = "active"
    extra: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {speaker, text, at_ms}
    tools: list[dict[str, Any]] = field(default_factory=list)  # ToolResult JSON, in order
    handover: dict[str, Any] | None = None

    def add_turn(self, turn: dict[str, Any]) -> int:
        """Append a transcript turn (the oldest go past ``MAX_TURNS``); the count."""
        self.transcript.append(turn)
        del self.transcript[:-MAX_TURNS]
        return len(self.transcript)

    def add_tool_result(self, result: dict[str, Any]) -> None:
        self.tools.append(result)
        del self.tools[:-MAX_TOOL_RESULTS]

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "phone": self.phone,
            "status": self.status,
            "started_at": self.started_at,
            "view": self.view.model_dump(mode="json"),
            "transcript": list(self.transcript),
            "tools": list(self.tools),
            "handover": self.handover,
        }

    def summary(self) -> dict[str, Any]:
        view = self.view
        return {
            "call_id": self.call_id,
            "phone": self.phone,
            "status": self.status,
            "started_at": self.started_at,
            "customer_id": view.customer_id,
            "recommendation": view.recommendation.action,
            "elapsed_ms": view.elapsed_ms,
            "degraded": view.degraded_fields(),
            "tools": len(self.tools),
            "escalated": self.handover is not None,
        }


class CallRegistry:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._calls: OrderedDict[str, CallRecord] = OrderedDict()
        self._starting: set[str] = set()  # ids whose lookup is under way

    def reserve(self, call_id: str) -> bool:
        """Claim an id before the lookup awaits anything; False if it is taken."""
        if call_id in self._calls or call_id in self._starting:
            return False
        self._starting.add(call_id)
        return True

    def release(self, call_id: str) -> None:
        self._starting.discard(call_id)

    def add(self, call_id: str, phone: str, view: CallerView) -> CallRecord:
        record = CallRecord(call_id, phone, datetime.now(UTC).isoformat(), view)
        self._calls[call_id] = record
        while len(self._calls) > self.capacity:
            self._calls.popitem(last=False)
        return record

    def get(self, call_id: str) -> CallRecord | None:
        return self._calls.get(call_id)

    def recent(self, limit: int) -> list[CallRecord]:
        return list(self._calls.values())[-limit:][::-1]

    def __len__(self) -> int:
        return len(self._calls)
