"""Sent messages, kept in memory and rendered as Twilio's Message resource."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

__all__ = ["API_VERSION", "Message", "MessageFilter", "MessageStore", "rfc2822"]

API_VERSION = "2010-04-01"


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's 2010 API dates: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return None if moment is None else format_datetime(moment.astimezone(UTC))


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status: str
    num_segments: int
    date_created: datetime
    date_updated: datetime
    messaging_service_sid: str | None = None
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        base = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            # Twilio sends these counts as strings.
            "num_media": str(len(self.media_urls)),
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri,
        }


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Twilio's list filters: ``To``, ``From``, ``DateSent``, ``DateSent<``, ``DateSent>``."""

    to: str | None = None
    from_: str | None = None
    sent_on: date | None = None
    sent_on_or_before: datetime | None = None
    sent_on_or_after: datetime | None = None

    def matches(self, message: Message) -> bool:
        if self.to is not None and message.to != self.to:
            return False
        if self.from_ is not None and message.from_ != self.from_:
            return False
        dated = (self.sent_on, self.sent_on_or_before, self.sent_on_or_after)
        if all(bound is None for bound in dated):
            return True
        sent = message.date_sent
        if sent is None:
            return False
        if self.sent_on is not None and sent.date() != self.sent_on:
            return False
        if self.sent_on_or_before is not None and sent > self.sent_on_or_before:
            return False
        return not (self.sent_on_or_after is not None and sent < self.sent_on_or_after)


@dataclass
class MessageStore:
    seed: int
    now: Callable[[], datetime] = _utc_now
    _messages: dict[str, Message] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._ids = random.Random(f"{self.seed}:messaging:sids")

    def new_sid(self, prefix: str) -> str:
        # Seeded, so a replayed run produces the same sids.
        with self._lock:
            return f"{prefix}{self._ids.getrandbits(128):032x}"

    def add(self, message: Message) -> None:
        with self._lock:
            self._messages[message.sid] = message

    def get(self, sid: str) -> Message | None:
        return self._messages.get(sid)

    def select(self, where: MessageFilter) -> list[Message]:
        """Newest first, as Twilio lists them (insertion order is creation order)."""
        with self._lock:
            return [m for m in reversed(self._messages.values()) if where.matches(m)]

    def set_status(
        self, message: Message, status: str, *, error: tuple[int, str] | None = None
    ) -> None:
        with self._lock:
            moment = self.now()
            message.status = status
            message.date_updated = moment
            if status == "sent":
                message.date_sent = moment
            if error is not None:
                message.error_code, message.error_message = error

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._ids = random.Random(f"{self.seed}:messaging:sids")
