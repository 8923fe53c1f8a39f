"""Slack Web API methods under ``/slack/api/<method>``.

A ``slack_sdk.WebClient(token, base_url="<mocks>/slack/api/")`` talks to it unchanged.

Like Slack, every method answers GET and POST, and failures are HTTP 200 with ``ok: false``
except ``ratelimited`` (429 + Retry-After) and ``unknown_method`` (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, form_body
from mocks.platform.state import service_in
from mocks.slack._params import read_arguments, require_token
from mocks.slack.errors import SlackError, SlackErrorBody, SlackErrorRoute
from mocks.slack.service import SlackService
from mocks.slack.store import BOT

__all__ = ["Slack", "current_slack", "router"]

_VERBS = ["GET", "POST"]

# Slack answers most failures with a 200 and ok=false; these are the ones that change the
# status line.
_ERRORS = error_responses(
    SlackErrorBody,
    *GATEWAY_STATUSES,
    *BODY_STATUSES,
    404,
    descriptions={404: "unknown_method"},
)
router = APIRouter(prefix="/api", route_class=SlackErrorRoute, tags=["slack"], responses=_ERRORS)
_TOKEN = {"token": "the bot token, when it is not sent as Authorization: Bearer"}
_AUTH_TEST = form_body(_TOKEN, also_json=True)
_LIST = form_body(
    {
        **_TOKEN,
        "types": "public_channel, private_channel (comma-separated)",
        "exclude_archived": "true to leave archived channels out",
        "limit": "channels per page (1-1000, default 100)",
        "cursor": "next_cursor from the previous page",
    },
    also_json=True,
)
_POST = form_body(
    {
        **_TOKEN,
        "channel": "channel id or #name",
        "text": "the message (up to 40,000 characters)",
        "blocks": "Block Kit blocks, a JSON array (a JSON string in a form)",
        "thread_ts": "ts of the thread's root message, to reply in it",
    },
    required=["channel"],
    also_json=True,
)


async def current_slack(request: Request) -> SlackService:
    return service_in(request, SlackService)


Slack = Annotated[SlackService, Depends(current_slack)]


async def _authorised_arguments(request: Request, slack: SlackService) -> dict[str, Any]:
    arguments, token = await read_arguments(request)
    require_token(request, token, slack.ctx.settings.credentials.slack_bot_token)
    return arguments


@router.get("/auth.test", summary="auth.test")
@router.post("/auth.test", summary="auth.test", openapi_extra=_AUTH_TEST)
async def auth_test(request: Request, slack: Slack) -> dict[str, Any]:
    await _authorised_arguments(request, slack)
    return {"ok": True, **BOT, "is_enterprise_install": False}


@router.get("/conversations.list", summary="conversations.list")
@router.post("/conversations.list", summary="conversations.list", openapi_extra=_LIST)
async def conversations_list(request: Request, slack: Slack) -> dict[str, Any]:
    return slack.conversations(await _authorised_arguments(request, slack))


@router.get("/chat.postMessage", summary="chat.postMessage")
@router.post(
    "/chat.postMessage",
    summary="chat.postMessage",
    openapi_extra=_POST,
    responses=error_responses(SlackErrorBody, 409),
)
async def post_message(request: Request, slack: Slack) -> JSONResponse:
    arguments = await _authorised_arguments(request, slack)
    stored = await slack.post_message(arguments, request.headers.get("idempotency-key"))
    return JSONResponse(stored.body, stored.status)


@router.api_route("/{method}", methods=_VERBS, include_in_schema=False)
async def unknown_method(method: str) -> JSONResponse:
    raise SlackError("unknown_method", 404)
