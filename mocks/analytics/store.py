"""Events Segment accepted, deduplicated by ``messageId`` as Segment does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mocks.analytics.messages import parse_timestamp

__all__ = ["AnalyticsStore"]


@dataclass
class AnalyticsStore:
    events: list[dict[str, Any]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def ingest(
        self, message: dict[str, Any], sent_at: datetime | None, received_at: datetime
    ) -> dict[str, Any] | None:
        """Stores a checked message; None when its messageId was already stored."""
        # Segment stamps messages that arrive without an id, so they are never deduplicated.
        message_id = message.get("messageId") or f"api-{uuid.uuid4()}"
        if message_id in self._seen:
            return None
        self._seen.add(message_id)
        original = parse_timestamp(message.get("timestamp"), "timestamp")
        stored = {
            **message,
            "messageId": message_id,
            "receivedAt": received_at.isoformat(),
            "timestamp": _corrected(original, sent_at, received_at).isoformat(),
        }
        stored.pop("writeKey", None)
        if original is not None:
            stored["originalTimestamp"] = original.isoformat()
        if sent_at is not None:
            stored["sentAt"] = sent_at.isoformat()
        self.events.append(stored)
        return stored

    def query(
        self, user_id: str | None, event: str | None, message_type: str | None
    ) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if (user_id is None or e.get("userId") == user_id)
            and (event is None or e.get("event") == event)
            and (message_type is None or e.get("type") == message_type)
        ]


def _corrected(
    original: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """Segment's clock-skew fix: trust the server's clock for when the event happened."""
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)
