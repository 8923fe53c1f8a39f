"""``/_mock/slack/...``: the messages the bot posted, and the per-channel posting limit."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from mocks.platform.control import GUARDED
from mocks.slack.routes import Slack
from mocks.slack.store import PostLimit

__all__ = ["PostLimitUpdate", "router"]


class PostLimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    # At least one post in a thousand seconds: a rate near zero makes the refill period
    # infinite.
    per_channel_per_s: float = Field(
        ..., ge=0.001, le=10_000, description="sustained posts/s per channel"
    )
    burst: int = Field(..., ge=1, le=1_000_000, description="posts a quiet channel accepts at once")


router = APIRouter(tags=["slack"])


@router.get("/messages", summary="Messages the bot posted (optionally in one channel)")
def messages(slack: Slack, channel: str | None = None) -> dict[str, Any]:
    posted = slack.store.messages
    if channel is not None:
        found = slack.store.find_channel(channel)
        wanted = found.id if found else channel
        posted = [m for m in posted if m["channel"] == wanted]
    return {"count": len(posted), "messages": posted}


@router.get("/config", summary="The per-channel posting limit")
def config(slack: Slack) -> dict[str, Any]:
    return asdict(slack.store.limit)


@router.put("/config", dependencies=GUARDED, summary="Change the per-channel limit")
def set_config(body: PostLimitUpdate, slack: Slack) -> dict[str, Any]:
    slack.store.set_limit(PostLimit(body.per_channel_per_s, body.burst))
    return asdict(slack.store.limit)
