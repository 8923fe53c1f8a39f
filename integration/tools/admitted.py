"""A tool invocation as the call store admits it, and what tools leave on the call for the
tools after them."""

from __future__ import annotations

from dataclasses import dataclass

from integration.lookup.view import CallerView

__all__ = ["Booking", "CallHasEnded", "ToolStart"]


class CallHasEnded(Exception):
    """The call has ended: no more tools."""


@dataclass(frozen=True)
class Booking:
    """The appointment a tool booked on this call, for the confirmation that follows it."""

    effect: str  # the booking effect's name
    start: str  # ISO 8601
    when: str  # as spoken

    def as_json(self) -> dict[str, str]:
        return {"effect": self.effect, "start": self.start, "when": self.when}


@dataclass(frozen=True)
class ToolStart:
    """A tool invocation admitted on a live call: its number within the call (which names
    its effects) and what the tool reads of the call."""

    seq: int
    call_id: str
    phone: str
    view: CallerView
    booking: Booking | None
    barge_ins: int  # the call's barge-ins so far: one more cancels this tool's reads
