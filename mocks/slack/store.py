"""The workspace's channels, the messages the bot posted, and the per-channel post limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mocks.chaos.models import RateLimitSpec
from mocks.chaos.ratelimit import QuotaBuckets

__all__ = ["BOT", "Channel", "PostLimit", "SlackStore", "seed_channels"]

# Who the bot token belongs to: auth.test and every posted message name it.
BOT = {
    "team": "Switchboard",
    "team_id": "T0SWB0001",
    "user": "switchboard-bot",
    "user_id": "U0SWB0BOT",
    "bot_id": "B0SWB0BOT",
    "app_id": "A0SWB0APP",
    "url": "https://switchboard.slack.com/",
}
_SEEDED_AT = 1_700_000_000  # channels' "created" (2023-11-14), fixed so the seed is stable


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str
    purpose: str
    is_archived: bool = False
    is_private: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_member": True,
            "created": _SEEDED_AT,
            "creator": BOT["user_id"],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": BOT["user_id"], "last_set": _SEEDED_AT},
            "num_members": 12,
        }


def seed_channels() -> tuple[Channel, ...]:
    return (
        Channel("C0SWB0GEN", "general", "Company-wide announcements"),
        Channel("C0SWB0SAL", "sales-alerts", "Hot leads from the voice agent"),
        Channel("C0SWB0OPS", "ops-incidents", "Escalations and system incidents"),
        Channel("C0SWB0VOX", "voice-agent", "Voice agent call summaries"),
        Channel("C0SWB0OLD", "legacy-alerts", "Replaced by #sales-alerts", is_archived=True),
    )


@dataclass(frozen=True, slots=True)
class PostLimit:
    """Slack allows about one message per second per channel, with short bursts."""

    per_channel_per_s: float = 1.0
    burst: int = 30  # generous, so a test that posts a handful of messages is never throttled


@dataclass
class SlackStore:
    now: Callable[[], datetime]
    clock: Callable[[], float]
    limit: PostLimit = field(default_factory=PostLimit)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    _last_ts: int = 0  # microseconds; ts values must be unique per workspace here
    _buckets: QuotaBuckets | None = None

    def __post_init__(self) -> None:
        self.channels = {c.id: c for c in seed_channels()}
        self.set_limit(self.limit)

    def set_limit(self, limit: PostLimit) -> None:
        self.limit = limit
        spec = RateLimitSpec(requests=limit.burst, per_s=limit.burst / limit.per_channel_per_s)
        self._buckets = QuotaBuckets(spec, self.clock)

    def wait_before_post(self, channel_id: str) -> float | None:
        """Spend one post for the channel; None if allowed, else seconds until one is free."""
        assert self._buckets is not None
        return self._buckets.take(channel_id)

    def find_channel(self, ref: str) -> Channel | None:
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)

    def next_ts(self) -> str:
        micros = int(self.now().timestamp() * 1_000_000)
        self._last_ts = max(micros, self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next(
            (m for m in self.messages if m["channel"] == channel_id and m["ts"] == ts), None
        )
