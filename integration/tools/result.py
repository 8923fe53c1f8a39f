"""What a tool answers: the words for the caller, the data behind them, where each piece came
from, and whether a person should take over.

A handler returns an ``Outcome`` (its verdict); the runtime turns it into a ``ToolResult``
with the timing, the filler flag and the outbox effects the tool queued.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "LEAKY_WORDS",
    "Escalate",
    "FieldSource",
    "Outcome",
    "ToolResult",
    "ToolStatus",
    "safe_say",
]

log = logging.getLogger(__name__)

ToolStatus = Literal["ok", "degraded", "failed"]

# Words a caller should never hear: vendor and system names, protocol talk, error jargon.
# Every ``say`` passes through ``safe_say``; the tests hold the handlers' lines to it too.
LEAKY_WORDS = re.compile(
    r"\b(crm|salesforce|stripe|twilio|sendgrid|google|slack|erp|sql|database|outbox|"
    r"dispatcher|webhook|https?|api|json|status code|exception|traceback|error code|"
    r"timeout|timed out|breaker|circuit|retry|retrying|idempotency|payload|null|undefined|"
    r"sb:\S*|evt_\w+|pi_\w+|ho_\w+|tool_\w+)\b"
    # a status code standing alone ("a 503"), not part of an amount ("$450.00", "1,404")
    r"|(?<![$,.\d])[45]\d\d(?![,.]?\d)",
    re.IGNORECASE,
)
_FALLBACK_SAY = "I'm sorry, I couldn't do that just now."


def safe_say(text: str) -> str:
    """``text`` on one line; if it would leak a system name or jargon, a plain apology
    instead (and a log line, because a handler wrote something it should not have)."""
    line = " ".join(text.split())
    match = LEAKY_WORDS.search(line)
    if match is not None:
        log.error("a tool's words for the caller leaked %r; replaced", match.group(0))
        return _FALLBACK_SAY
    return line


class FieldSource(BaseModel):
    """Where one piece of a tool's data came from (the caller view's provenance, plus
    ``queued``: written to the outbox, not yet applied by the target system)."""

    status: Literal["live", "cached", "missing", "queued"]
    system: str
    age_s: float | None = None
    reason: str | None = None


class Escalate(BaseModel):
    needed: bool = False
    reason: str | None = None


class ToolResult(BaseModel):
    tool: str
    call_id: str
    status: ToolStatus
    say: str = Field(description="what the agent should say: one or two plain sentences")
    data: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, FieldSource] = Field(default_factory=dict)
    escalate: Escalate = Field(default_factory=Escalate)
    latency_ms: float
    filler_needed: bool = Field(
        description="the tool ran past the filler threshold: the agent needed a filler line"
    )
    effects: list[int] = Field(
        default_factory=list, description="ids of the outbox effects this tool queued"
    )


@dataclass
class Outcome:
    """A handler's verdict. ``escalate``: why a person should take over (None: no need)."""

    status: ToolStatus
    say: str
    data: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, FieldSource] = field(default_factory=dict)
    escalate: str | None = None
