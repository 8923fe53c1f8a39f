"""Reading Web API arguments the ways Slack accepts them, and checking a message's.

Arguments may come as a query string, a form body or a JSON body. A token is accepted as a
bearer header or as a ``token`` form/query argument, never inside JSON (Slack ignores it
there), so a JSON call without the header is ``not_authed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from mocks.platform.credentials import same_secret
from mocks.slack.errors import SlackError
from mocks.slack.store import Channel, SlackStore

__all__ = ["MAX_TEXT", "OutgoingMessage", "check_message", "read_arguments", "require_token"]

MAX_TEXT = 40_000
_TS = re.compile(r"\d{1,12}\.\d{6}")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_arguments(request: Request) -> tuple[dict[str, Any], str | None]:
    """(arguments, token given as an argument)."""
    arguments: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SlackError("invalid_json") from exc
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            body.pop("token", None)
            arguments.update(body)
    elif content_type in _FORM_TYPES:
        form = await request.form()
        arguments.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = arguments.pop("token", None)
    return arguments, token if isinstance(token, str) else None


def require_token(request: Request, argument_token: str | None, expected: str) -> None:
    # A bearer header was already checked by the gateway (service.authenticate).
    if "authorization" in request.headers:
        return
    if not argument_token:
        raise SlackError("not_authed")
    if not same_secret(argument_token, expected):
        raise SlackError("invalid_auth")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    channel: Channel
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None


def check_message(store: SlackStore, arguments: dict[str, Any]) -> OutgoingMessage:
    """Refuses the message the way chat.postMessage does (one slug per failure)."""
    channel = store.find_channel(str(arguments.get("channel") or ""))
    if channel is None:
        raise SlackError("channel_not_found")
    if channel.is_archived:
        raise SlackError("is_archived")
    text = arguments.get("text")
    if text is not None and not isinstance(text, str):
        text = str(text)
    blocks = _blocks(arguments.get("blocks"))
    if not text and not blocks and not arguments.get("attachments"):
        raise SlackError("no_text")
    if text and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    thread_ts = arguments.get("thread_ts") or None
    if thread_ts is not None:
        thread_ts = str(thread_ts)
        if not _TS.fullmatch(thread_ts):
            raise SlackError("invalid_thread_ts")
        parent = store.message(channel.id, thread_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.get("thread_ts"):  # Slack wants the root's ts, not a reply's
            raise SlackError("invalid_thread_ts")
    return OutgoingMessage(channel, text or "", blocks, thread_ts)


def _blocks(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):  # form bodies carry blocks as a JSON string
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SlackError("invalid_blocks_format") from exc
    if not isinstance(raw, list):
        raise SlackError("invalid_blocks_format")
    if not all(isinstance(block, dict) and isinstance(block.get("type"), str) for block in raw):
        raise SlackError("invalid_blocks")
    return raw or None
