"""Tools a voice agent calls during a conversation: eligibility, booking, payment, lead
update, confirmation, callback and hand-over. Every result carries words for the caller,
data with provenance, an escalate flag and its latency (``result.ToolResult``); reads run
under the turn's budget and stop on a barge-in, writes go through the outbox."""

from integration.tools.admitted import Booking, CallHasEnded, ToolStart
from integration.tools.registry import TOOLS, ToolSpec, openai_tools
from integration.tools.result import ToolResult
from integration.tools.runtime import (
    DEFAULT_FILLER_THRESHOLD_MS,
    DEFAULT_TURN_BUDGET_MS,
    ToolArgumentsError,
    ToolRuntime,
    UnknownCall,
    UnknownTool,
)

__all__ = [
    "DEFAULT_FILLER_THRESHOLD_MS",
    "DEFAULT_TURN_BUDGET_MS",
    "TOOLS",
    "Booking",
    "CallHasEnded",
    "ToolArgumentsError",
    "ToolResult",
    "ToolRuntime",
    "ToolSpec",
    "ToolStart",
    "UnknownCall",
    "UnknownTool",
    "openai_tools",
]
