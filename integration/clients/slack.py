"""Slack Web API: one bot message to a channel (chat.postMessage).

Slack reports most failures as HTTP 200 with ``ok: false``. Those whose slug says Slack
itself had trouble are worth another try (SourceUnavailable); every other slug is a
refusal of the message as sent (Rejected, with the slug as the message).
"""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.errors import Rejected, SourceUnavailable
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["RETRYABLE_SLUGS", "SlackClient"]

RETRYABLE_SLUGS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


class SlackClient:
    system = "slack"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the root above ``/api`` (the mocks: ``<mocks_url>/slack``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._auth = {"Authorization": f"Bearer {credentials.slack_bot_token}"}

    async def post_message(
        self, attempt: AttemptState, *, channel: str, text: str, key: str
    ) -> dict[str, Any]:
        """Slack's answer (``ok``, ``channel`` id, ``ts``, ``message``)."""
        answer = await send_write_json(
            self.http,
            "post_message",
            attempt,
            "POST",
            "/api/chat.postMessage",
            json={"channel": channel, "text": text},
            headers={**self._auth, "Idempotency-Key": key},
        )
        if not isinstance(answer, dict) or "ok" not in answer:
            raise self.http.malformed("post_message", attempt, "answer has no ok field")
        if answer["ok"] is not True:
            slug = str(answer.get("error") or "unknown_error")
            kind = SourceUnavailable if slug in RETRYABLE_SLUGS else Rejected
            raise kind(
                self.system,
                "post_message",
                slug,
                status=attempt.status,
                injected_fault=attempt.injected_fault,
            )
        if not answer.get("ts"):
            raise self.http.malformed("post_message", attempt, "posted message has no ts")
        return answer
