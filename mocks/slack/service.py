"""The team's Slack workspace, speaking the Slack Web API (bot token)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mocks.platform.credentials import same_secret
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.slack._listing import channel_page
from mocks.slack._params import check_message
from mocks.slack.errors import SlackError, slack_error_body
from mocks.slack.store import BOT, SlackStore

__all__ = ["SlackService"]

# The gateway's fault reasons, and the system app's for a path no route serves, in Slack's
# words (Slack has no slug for a bad gateway).
_SLUGS = {
    "unauthorized": "token_expired",
    "rate_limited": "ratelimited",
    "server_error": "internal_error",
    "bad_gateway": "service_unavailable",
    "unavailable": "service_unavailable",
    "gateway_timeout": "request_timeout",
    "invalid_request": "invalid_arguments",
    "payload_too_large": "request_too_large",
    "not_found": "unknown_method",
}


class _Throttled(Exception):
    """Raised inside an idempotent apply, so the refusal is not stored as the key's answer."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(wait_s)
        self.wait_s = wait_s


class SlackService(MockService):
    name = "slack"
    title = "Slack"
    vendor = "Slack Web API"
    summary = (
        "Bot posts to team channels: chat.postMessage, auth.test, conversations.list under "
        "/slack/api. Errors are HTTP 200 with ok=false; posting is limited per channel."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        # Wall-clock time stamps message ts values; ctx.clock (monotonic) drives the limiter.
        self.now: Callable[[], datetime] = ctx.now
        self.store = self._fresh_store()

    def _fresh_store(self) -> SlackStore:
        return SlackStore(now=lambda: self.now(), clock=self.ctx.clock)

    def reset(self) -> None:
        super().reset()
        self.store = self._fresh_store()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        # Without a header the token may still come as a form argument: the route checks it.
        if "authorization" not in headers:
            return None
        scheme, _, token = headers["authorization"].partition(" ")
        expected = self.ctx.settings.credentials.slack_bot_token
        if scheme.lower() == "bearer" and same_secret(token.strip(), expected):
            return None
        return AuthFailure(200, "invalid_auth", "invalid_auth")  # Slack says so with a 200

    def revoked_credentials(self) -> AuthFailure:
        # As Slack answers a bot token revoked by an admin or an uninstall: a 200 whose
        # ok=false names it; only a new token (a reinstall) posts again.
        return AuthFailure(200, "token_revoked", "token_revoked")

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        body = slack_error_body(_SLUGS.get(reason, reason))
        if field is not None:  # where Slack itself names a bad argument
            body["response_metadata"] = {"messages": [f"[ERROR] {message}"]}
        return body

    # -- Web API methods -------------------------------------------------------------

    def conversations(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, **channel_page(list(self.store.channels.values()), arguments)}

    async def post_message(self, arguments: dict[str, Any], key: str | None) -> StoredResponse:
        """chat.postMessage once per key; refusals are stored under the key like answers,
        except throttling, which a retry may get past."""

        async def apply() -> StoredResponse:
            try:
                return self._post(arguments, key)
            except SlackError as exc:
                return StoredResponse(exc.status, slack_error_body(exc.error))

        try:
            stored, _ = await self.idempotency.run(
                key, fingerprint("chat.postMessage", arguments), apply
            )
        except _Throttled as exc:
            retry_after = str(max(1, math.ceil(exc.wait_s)))
            raise SlackError("ratelimited", 429, {"Retry-After": retry_after}) from exc
        except IdempotencyMismatch as exc:
            raise SlackError("idempotency_key_reused", 400) from exc
        except IdempotencyConflict as exc:
            raise SlackError("idempotency_key_in_flight", 409) from exc
        return stored

    def _post(self, arguments: dict[str, Any], key: str | None) -> StoredResponse:
        store = self.store
        outgoing = check_message(store, arguments)
        wait_s = store.wait_before_post(outgoing.channel.id)
        if wait_s is not None:
            raise _Throttled(wait_s)
        ts = store.next_ts()
        posted = {
            "channel": outgoing.channel.id,
            "channel_name": outgoing.channel.name,
            "ts": ts,
            "text": outgoing.text,
            "blocks": outgoing.blocks,
            "thread_ts": outgoing.thread_ts,
            "idempotency_key": key,
            "posted_at": self.now().isoformat(),
        }
        store.messages.append(posted)
        self.ledger.record("chat.postMessage", ts, key, channel=outgoing.channel.id, ts=ts)
        body = {
            "ok": True,
            "channel": outgoing.channel.id,
            "ts": ts,
            "message": _message_json(posted),
        }
        return StoredResponse(200, body)


def _message_json(posted: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "user": BOT["user_id"],
        "type": "message",
        "ts": posted["ts"],
        "bot_id": BOT["bot_id"],
        "app_id": BOT["app_id"],
        "text": posted["text"],
        "team": BOT["team_id"],
        "bot_profile": {
            "id": BOT["bot_id"],
            "app_id": BOT["app_id"],
            "name": "Switchboard",
            "team_id": BOT["team_id"],
            "deleted": False,
        },
    }
    if posted["blocks"] is not None:
        message["blocks"] = posted["blocks"]
    if posted["thread_ts"] is not None:
        message["thread_ts"] = posted["thread_ts"]
        message["parent_user_id"] = BOT["user_id"]
    return message
