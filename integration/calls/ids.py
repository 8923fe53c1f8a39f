"""Call ids: who made the call decides its namespace, so one caller's ids can never reach
another's calls."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

__all__ = ["CALL_ID_PATTERN", "Origin", "new_call_id", "vapi_call_id"]

# Call ids become idempotency keys (``sb:<call_id>:<effect>``), so they stay short and plain.
CALL_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
_CALL_ID = re.compile(CALL_ID_PATTERN)

# "api": started with POST /calls; "vapi": started by Vapi's webhook.
Origin = Literal["api", "vapi"]


def new_call_id() -> str:
    return "call_" + secrets.token_hex(8)


def vapi_call_id(vapi_id: str | None) -> str:
    """Our id for a Vapi call: derived from Vapi's own, so every message of one Vapi call
    lands on the same call here, and prefixed, so it can never name a call started with
    POST /calls (those are stored with another origin as well)."""
    if vapi_id is None:
        return "vapi_" + secrets.token_hex(12)
    return "vapi_" + hashlib.sha256(vapi_id.encode()).hexdigest()[:24]


def valid_call_id(call_id: str) -> bool:
    return bool(_CALL_ID.match(call_id))
