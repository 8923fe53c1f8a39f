"""The mails the mock accepted, one entry per personalization (SendGrid's unit of delivery)."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Outbox", "OutboxMail", "mails_from_request"]

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OutboxMail:
    message_id: str
    personalization: int
    sent_at: str  # ISO 8601, UTC
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str | None  # None: the template's own subject
    template_id: str | None
    categories: tuple[str, ...]
    custom_args: dict[str, str]

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc + self.bcc


def _emails(people: Any) -> tuple[str, ...]:
    return tuple(p["email"] for p in people or ())


def mails_from_request(mail: dict[str, Any], message_id: str, sent_at: str) -> list[OutboxMail]:
    """Split a validated Mail Send body into its personalizations."""
    shared_args = mail.get("custom_args") or {}
    return [
        OutboxMail(
            message_id=message_id,
            personalization=index,
            sent_at=sent_at,
            from_email=mail["from"]["email"],
            to=_emails(person.get("to")),
            cc=_emails(person.get("cc")),
            bcc=_emails(person.get("bcc")),
            # A personalization's subject wins over the message's, as in SendGrid.
            subject=person.get("subject") or mail.get("subject"),
            template_id=mail.get("template_id"),
            categories=tuple(mail.get("categories") or ()),
            custom_args={**shared_args, **(person.get("custom_args") or {})},
        )
        for index, person in enumerate(mail["personalizations"])
    ]


class Outbox:
    def __init__(self, seed: int, now: Callable[[], datetime] = _utc_now) -> None:
        self._seed = seed
        self._now = now
        self._mails: list[OutboxMail] = []
        self._lock = threading.Lock()
        self._ids = random.Random(self._id_seed)

    @property
    def _id_seed(self) -> str:
        return f"{self._seed}:email:message-ids"

    def new_message_id(self) -> str:
        """22 URL-safe characters, like SendGrid's ``X-Message-Id`` (seeded, so runs replay)."""
        with self._lock:
            return "".join(self._ids.choice(_ID_ALPHABET) for _ in range(22))

    def now(self) -> str:
        return self._now().isoformat()

    def add(self, mails: list[OutboxMail]) -> None:
        with self._lock:
            self._mails.extend(mails)

    def mails(self, to: str | None = None) -> list[OutboxMail]:
        with self._lock:
            chosen = list(self._mails)
        if to is not None:
            wanted = to.lower()
            chosen = [m for m in chosen if wanted in (r.lower() for r in m.recipients)]
        return chosen

    def as_json(self, to: str | None = None) -> dict[str, Any]:
        mails = self.mails(to)
        return {"count": len(mails), "mails": [_mail_json(m) for m in mails]}

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()
            self._ids = random.Random(self._id_seed)


def _mail_json(mail: OutboxMail) -> dict[str, Any]:
    data = asdict(mail)
    data["from"] = data.pop("from_email")
    return data
