"""Segment's HTTP Tracking API: one ``track`` event.

Segment has no idempotency header; it drops a message whose ``messageId`` it has already
seen. So the effect's idempotency key is the messageId, and a resend is applied once.
"""

from __future__ import annotations

import base64
from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["SegmentClient"]


class SegmentClient:
    system = "analytics"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the root above ``/v1`` (the mocks: ``<mocks_url>/analytics``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        # The write key is the Basic user name, with no password.
        basic = base64.b64encode(f"{credentials.segment_write_key}:".encode()).decode()
        self._auth = {"Authorization": f"Basic {basic}"}

    async def track(
        self,
        attempt: AttemptState,
        *,
        user_id: str,
        event: str,
        properties: dict[str, Any],
        key: str,
    ) -> dict[str, Any]:
        """Segment's answer (``{"success": true}``) with the ``messageId`` that was sent."""
        message = {"userId": user_id, "event": event, "properties": properties, "messageId": key}
        answer = await send_write_json(
            self.http,
            "track",
            attempt,
            "POST",
            "/v1/track",
            json=message,
            headers={**self._auth, "Idempotency-Key": key},
        )
        if not isinstance(answer, dict):
            raise self.http.malformed("track", attempt, "answer is not an object")
        return {**answer, "messageId": key}
