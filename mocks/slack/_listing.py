"""conversations.list: which channels a call asks for, and Slack's cursor paging over them."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from mocks.slack.errors import SlackError
from mocks.slack.store import Channel

__all__ = ["channel_page"]

_DEFAULT_LIMIT, _MAX_LIMIT = 100, 1000


def channel_page(channels: Sequence[Channel], arguments: Mapping[str, Any]) -> dict[str, Any]:
    types = set(str(arguments.get("types") or "public_channel").split(","))
    exclude_archived = str(arguments.get("exclude_archived", "")).lower() in ("true", "1")
    raw_limit = str(arguments.get("limit") or _DEFAULT_LIMIT)
    # ASCII digits only (isdigit() also takes "²", which int() refuses); any count past the
    # cap is the cap, however many digits it has.
    significant = raw_limit.lstrip("0")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not significant:
        raise SlackError("invalid_limit")
    limit = _MAX_LIMIT if len(significant) > 9 else min(int(significant), _MAX_LIMIT)
    chosen = [
        c
        for c in channels
        if ("private_channel" if c.is_private else "public_channel") in types
        and not (exclude_archived and c.is_archived)
    ]
    cursor = arguments.get("cursor")
    start = _after_cursor(str(cursor), [c.id for c in chosen]) if cursor else 0
    page = chosen[start : start + limit]
    more = start + limit < len(chosen)
    return {
        "channels": [c.to_json() for c in page],
        "response_metadata": {"next_cursor": _cursor(chosen[start + limit].id) if more else ""},
    }


def _cursor(channel_id: str) -> str:
    return base64.b64encode(f"channel:{channel_id}".encode()).decode()


def _after_cursor(cursor: str, ids: list[str]) -> int:
    try:
        label, _, channel_id = base64.b64decode(cursor, validate=True).decode().partition(":")
    except ValueError as exc:  # not base64 (or not ASCII at all), or not UTF-8 inside
        raise SlackError("invalid_cursor") from exc
    if label != "channel" or channel_id not in ids:
        raise SlackError("invalid_cursor")
    return ids.index(channel_id)
