"""Slack Web API methods under ``/slack/api/<method>``.

A ``slack_sdk.WebClient(token, base_url="<mocks>/slack/api/")`` talks to it unchanged.

Like Slack, every method answers GET and POST, and failures are HTTP 200 with ``ok: false``
except ``ratelimited`` (429 + Retry-After) and ``unknown_method`` (404).
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.slack._params import check_message, read_arguments, require_token
from mocks.slack.errors import SlackError, SlackErrorRoute, slack_error_body
from mocks.slack.store import BOT

if TYPE_CHECKING:
    from mocks.slack.service import SlackService

__all__ = ["build_router"]

_VERBS = ["GET", "POST"]
_DEFAULT_LIMIT, _MAX_LIMIT = 100, 1000


class _Throttled(Exception):
    """Raised inside an idempotent apply, so the refusal is not stored as the key's answer."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(wait_s)
        self.wait_s = wait_s


def _cursor(channel_id: str) -> str:
    return base64.b64encode(f"channel:{channel_id}".encode()).decode()


def _after_cursor(cursor: str, ids: list[str]) -> int:
    try:
        label, _, channel_id = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    if label != "channel" or channel_id not in ids:
        raise SlackError("invalid_cursor")
    return ids.index(channel_id)


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
            "id": BOT["bot_id"], "app_id": BOT["app_id"], "name": "Switchboard",
            "team_id": BOT["team_id"], "deleted": False,
        },
    }
    if posted["blocks"] is not None:
        message["blocks"] = posted["blocks"]
    if posted["thread_ts"] is not None:
        message["thread_ts"] = posted["thread_ts"]
        message["parent_user_id"] = BOT["user_id"]
    return message


def build_router(service: SlackService) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=SlackErrorRoute, tags=["slack"])

    async def authorised_arguments(request: Request) -> dict[str, Any]:
        arguments, token = await read_arguments(request)
        require_token(request, token, service.ctx.settings.credentials.slack_bot_token)
        return arguments

    @router.api_route("/auth.test", methods=_VERBS, summary="auth.test")
    async def auth_test(request: Request) -> dict[str, Any]:
        await authorised_arguments(request)
        return {"ok": True, **BOT, "is_enterprise_install": False}

    @router.api_route("/conversations.list", methods=_VERBS, summary="conversations.list")
    async def conversations_list(request: Request) -> dict[str, Any]:
        arguments = await authorised_arguments(request)
        types = set(str(arguments.get("types") or "public_channel").split(","))
        exclude_archived = str(arguments.get("exclude_archived", "")).lower() in ("true", "1")
        raw_limit = str(arguments.get("limit") or _DEFAULT_LIMIT)
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            raise SlackError("invalid_limit")
        limit = min(int(raw_limit), _MAX_LIMIT)
        chosen = [
            c for c in service.store.channels.values()
            if ("private_channel" if c.is_private else "public_channel") in types
            and not (exclude_archived and c.is_archived)
        ]
        cursor = arguments.get("cursor")
        start = _after_cursor(str(cursor), [c.id for c in chosen]) if cursor else 0
        page = chosen[start : start + limit]
        more = start + limit < len(chosen)
        return {
            "ok": True,
            "channels": [c.to_json() for c in page],
            "response_metadata": {"next_cursor": _cursor(chosen[start + limit].id) if more else ""},
        }

    @router.api_route("/chat.postMessage", methods=_VERBS, summary="chat.postMessage")
    async def post_message(request: Request) -> JSONResponse:
        arguments = await authorised_arguments(request)
        key = request.headers.get("idempotency-key")
        store = service.store

        async def apply() -> StoredResponse:
            try:
                outgoing = check_message(store, arguments)
            except SlackError as exc:
                return StoredResponse(exc.status, slack_error_body(exc.error))
            wait_s = store.wait_before_post(outgoing.channel.id)
            if wait_s is not None:
                raise _Throttled(wait_s)
            ts = store.next_ts()
            posted = {
                "channel": outgoing.channel.id, "channel_name": outgoing.channel.name, "ts": ts,
                "text": outgoing.text, "blocks": outgoing.blocks, "thread_ts": outgoing.thread_ts,
                "idempotency_key": key, "posted_at": service.now().isoformat(),
            }
            store.messages.append(posted)
            service.ledger.record("chat.postMessage", ts, key, channel=outgoing.channel.id, ts=ts)
            body = {"ok": True, "channel": outgoing.channel.id, "ts": ts,
                    "message": _message_json(posted)}
            return StoredResponse(200, body)

        try:
            stored, _ = await service.idempotency.run(
                key, fingerprint("chat.postMessage", arguments), apply
            )
        except _Throttled as exc:
            retry_after = str(max(1, math.ceil(exc.wait_s)))
            raise SlackError("ratelimited", 429, {"Retry-After": retry_after}) from exc
        except IdempotencyMismatch as exc:
            raise SlackError("idempotency_key_reused", 400) from exc
        except IdempotencyConflict as exc:
            raise SlackError("idempotency_key_in_flight", 409) from exc
        return JSONResponse(stored.body, stored.status)

    @router.api_route("/{method}", methods=_VERBS, include_in_schema=False)
    async def unknown_method(method: str) -> JSONResponse:
        raise SlackError("unknown_method", 404)

    return router
