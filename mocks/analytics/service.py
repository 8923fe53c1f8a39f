"""Product analytics events, speaking Segment's HTTP Tracking API."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mocks.analytics.messages import parse_timestamp
from mocks.analytics.store import AnalyticsStore
from mocks.platform.credentials import same_secret
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["AnalyticsService"]


def _basic_username(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 inside
        return None
    return decoded.partition(":")[0]


class AnalyticsService(MockService):
    name = "analytics"
    title = "Analytics"
    vendor = "Segment HTTP Tracking API"
    summary = (
        "Call outcomes as product events: track, identify, page, screen, group, alias and "
        "batch under /analytics/v1. Repeated messageIds are accepted and applied once."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        # Wall-clock time (ctx.clock is monotonic): receivedAt and Segment's skew correction.
        self.now: Callable[[], datetime] = ctx.now
        self.store = AnalyticsStore()

    def reset(self) -> None:
        super().reset()
        self.store = AnalyticsStore()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        # Without a header the write key may still be in the body: the route checks it.
        if "authorization" not in headers:
            return None
        username = _basic_username(headers["authorization"])
        expected = self.ctx.settings.credentials.segment_write_key
        if username is not None and same_secret(username, expected):
            return None
        return AuthFailure(401, "unauthorized", "invalid write key")

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        return {"success": False, "code": reason, "message": message}

    def accept(self, messages: list[dict[str, Any]], sent_at: Any) -> None:
        """Store checked messages; a repeated messageId is accepted and applied once."""
        sent = parse_timestamp(sent_at, "sentAt")
        received = self.now()
        for message in messages:
            stored = self.store.ingest(message, sent, received)
            if stored is None:
                continue
            self.ledger.record(
                f"event.{stored['type']}",
                stored["messageId"],
                stored["messageId"],
                userId=stored.get("userId"),
                anonymousId=stored.get("anonymousId"),
                event=stored.get("event"),
            )
