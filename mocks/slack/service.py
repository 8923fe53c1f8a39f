"""The team's Slack workspace, speaking the Slack Web API (bot token)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from mocks.platform.control import require_token
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.slack.errors import slack_error_body
from mocks.slack.routes import build_router
from mocks.slack.store import PostLimit, SlackStore

__all__ = ["SlackService"]

# The gateway's fault reasons in Slack's words (Slack has no slug for a bad gateway).
_SLUGS = {
    "unauthorized": "token_expired",
    "rate_limited": "ratelimited",
    "server_error": "internal_error",
    "bad_gateway": "service_unavailable",
    "unavailable": "service_unavailable",
    "gateway_timeout": "request_timeout",
}



class PostLimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_channel_per_s: float = Field(..., gt=0, description="sustained posts/s per channel")
    burst: int = Field(..., ge=1, description="posts a quiet channel accepts at once")


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

    def router(self) -> APIRouter:
        return build_router(self)

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        # Without a header the token may still come as a form argument: the route checks it.
        if "authorization" not in headers:
            return None
        scheme, _, token = headers["authorization"].partition(" ")
        expected = self.ctx.settings.credentials.slack_bot_token
        if scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), expected):
            return None
        return AuthFailure(200, "invalid_auth", "invalid_auth")  # Slack says so with a 200

    def error_body(self, status: int, reason: str, message: str) -> Any:
        return slack_error_body(_SLUGS.get(reason, reason))

    def inspection_router(self) -> APIRouter:
        router = APIRouter(tags=["slack"])
        guarded = [Depends(require_token(self.ctx.settings.chaos_token))]

        @router.get("/messages", summary="Messages the bot posted (optionally in one channel)")
        def messages(channel: str | None = None) -> dict[str, Any]:
            posted = self.store.messages
            if channel is not None:
                found = self.store.find_channel(channel)
                wanted = found.id if found else channel
                posted = [m for m in posted if m["channel"] == wanted]
            return {"count": len(posted), "messages": posted}

        @router.get("/config", summary="The per-channel posting limit")
        def config() -> dict[str, Any]:
            return asdict(self.store.limit)

        @router.put("/config", dependencies=guarded, summary="Change the per-channel limit")
        def set_config(body: PostLimitUpdate) -> dict[str, Any]:
            self.store.set_limit(PostLimit(body.per_channel_per_s, body.burst))
            return asdict(self.store.limit)

        return router
