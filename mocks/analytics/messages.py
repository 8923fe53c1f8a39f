"""Checking Segment messages (track, identify, page, screen, group, alias) before any is stored.

Each refusal is a ``SegmentError`` whose message names the field, prefixed with its place
in a batch (``batch[3].event``), so a caller can find the one bad message among hundreds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_MESSAGE_BYTES",
    "MESSAGE_TYPES",
    "SegmentError",
    "SegmentErrorBody",
    "check_message",
    "parse_timestamp",
]

MAX_MESSAGE_BYTES = 32 * 1024  # Segment's limit per message
MAX_BATCH_BYTES = 500 * 1024  # and per batch request
MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


class SegmentError(Exception):
    """Rendered as ``{"success": false, "code", "message"}``: the SDK reads code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"success": False, "code": self.code, "message": self.message}

    @classmethod
    def invalid(cls, message: str) -> SegmentError:
        return cls(400, "invalid_request", message)


class SegmentErrorBody(BaseModel):
    """``SegmentError.body()``, for the OpenAPI document."""

    success: Literal[False]
    code: str
    message: str


def parse_timestamp(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SegmentError.invalid(f"{field} must be an ISO 8601 date") from exc
    if parsed.tzinfo is None:
        raise SegmentError.invalid(f"{field} must carry a time zone offset")
    return parsed


def check_message(message: Any, where: str, message_type: str | None = None) -> dict[str, Any]:
    """``where`` prefixes field names ("" for a single call, "batch[3]." inside a batch)."""
    place = where.rstrip(".") or "message"
    if not isinstance(message, dict):
        raise SegmentError.invalid(f"{place} must be a JSON object")
    kind = message_type or message.get("type")
    if kind not in MESSAGE_TYPES:
        raise SegmentError.invalid(f"{where}type must be one of {', '.join(MESSAGE_TYPES)}")
    if len(json.dumps(message, default=str).encode()) > MAX_MESSAGE_BYTES:
        raise SegmentError.invalid(f"{place} exceeds 32KB")
    if not message.get("userId") and not message.get("anonymousId"):
        raise SegmentError.invalid(f"{where}userId or {where}anonymousId is required")
    if kind == "track" and not (isinstance(message.get("event"), str) and message["event"]):
        raise SegmentError.invalid(f"{where}event is required for track")
    if kind == "group" and not message.get("groupId"):
        raise SegmentError.invalid(f"{where}groupId is required for group")
    if kind == "alias" and not message.get("previousId"):
        raise SegmentError.invalid(f"{where}previousId is required for alias")
    for name in _OBJECT_FIELDS:
        if name in message and message[name] is not None and not isinstance(message[name], dict):
            raise SegmentError.invalid(f"{where}{name} must be an object")
    parse_timestamp(message.get("timestamp"), f"{where}timestamp")
    message_id = message.get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise SegmentError.invalid(f"{where}messageId must be a string")
    return {**message, "type": kind}
