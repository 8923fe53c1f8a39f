"""The conversation: a turn added to a live call's transcript, card numbers redacted first."""

from __future__ import annotations

from integration.calls.ids import Origin
from integration.calls.store import CallStore
from integration.redaction import redact_cards

__all__ = ["add_turn"]


async def add_turn(
    calls: CallStore,
    call_id: str,
    speaker: str,
    text: str,
    at_ms: float | None,
    origin: Origin | None = None,
) -> int | None:
    """The call's turn count after this one; None for an unknown call."""
    if origin is not None and not await calls.exists(call_id, origin):
        return None
    return await calls.add_turn(call_id, speaker, redact_cards(text), at_ms)
