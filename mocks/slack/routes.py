"""Slack Web API methods under ``/slack/api/<method>``.

A ``slack_sdk.WebClient(token, base_url="<mocks>/slack/api/")`` talks to it unchanged.

Like Slack, every method answers GET and POST, and failures are HTTP 200 with ``ok: false``
except ``ratelimited`` (429 + Retry-After) and ``unknown_method`` (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.platform.state import service_in
from mocks.slack._params import read_arguments, require_token
from mocks.slack.errors import SlackError, SlackErrorRoute
from mocks.slack.service import SlackService
from mocks.slack.store import BOT

__all__ = ["Slack", "current_slack", "router"]

_VERBS = ["GET", "POST"]

router = APIRouter(prefix="/api", route_class=SlackErrorRoute, tags=["slack"])


async def current_slack(request: Request) -> SlackService:
    return service_in(request, SlackService)


Slack = Annotated[SlackService, Depends(current_slack)]


async def _authorised_arguments(request: Request, slack: SlackService) -> dict[str, Any]:
    arguments, token = await read_arguments(request)
    require_token(request, token, slack.ctx.settings.credentials.slack_bot_token)
    return arguments


@router.api_route("/auth.test", methods=_VERBS, summary="auth.test")
async def auth_test(request: Request, slack: Slack) -> dict[str, Any]:
    await _authorised_arguments(request, slack)
    return {"ok": True, **BOT, "is_enterprise_install": False}


@router.api_route("/conversations.list", methods=_VERBS, summary="conversations.list")
async def conversations_list(request: Request, slack: Slack) -> dict[str, Any]:
    return slack.conversations(await _authorised_arguments(request, slack))


@router.api_route("/chat.postMessage", methods=_VERBS, summary="chat.postMessage")
async def post_message(request: Request, slack: Slack) -> JSONResponse:
    arguments = await _authorised_arguments(request, slack)
    stored = await slack.post_message(arguments, request.headers.get("idempotency-key"))
    return JSONResponse(stored.body, stored.status)


@router.api_route("/{method}", methods=_VERBS, include_in_schema=False)
async def unknown_method(method: str) -> JSONResponse:
    raise SlackError("unknown_method", 404)
