"""What a carrier status callback does to a text's recorded status: the ordering rules.

Twilio posts one callback per status change, but late, twice, or out of order: a
``sent`` can arrive after ``delivered``. The recorded status therefore only moves forward:

    accepted, scheduled  <  queued  <  sending  <  sent  <  delivered | undelivered | failed
    | canceled | partially_delivered  <  read (WhatsApp: read after delivered)

A status already seen for a message is a duplicate (Twilio's ``I-Twilio-Idempotency-Token``
is the message and status too); one that ranks below the recorded status, or another
final status once one is recorded, is out of order and changes nothing. A text that was not
delivered (undelivered, failed, canceled) stays so: a ``read`` after it contradicts it and
is out of order too.
"""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType
from typing import Literal

__all__ = ["FINAL_STATUSES", "MESSAGE_STATUSES", "STATUS_RANK", "Verdict", "judge"]

Verdict = Literal["advanced", "duplicate", "out_of_order"]

STATUS_RANK = MappingProxyType(
    {
        "accepted": 0,
        "scheduled": 0,
        "queued": 1,
        "sending": 2,
        "sent": 3,
        "delivered": 4,
        "undelivered": 4,
        "failed": 4,
        "canceled": 4,
        "partially_delivered": 4,
        "read": 5,
    }
)
MESSAGE_STATUSES = frozenset(STATUS_RANK)
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank >= 4)
_NOT_DELIVERED = frozenset({"undelivered", "failed", "canceled"})


def judge(current: str | None, seen: Collection[str], incoming: str) -> Verdict:
    """The verdict on ``incoming`` for a message whose recorded status is ``current`` (None:
    no callback yet) and which has had callbacks for ``seen``. Only ``advanced`` moves it.
    ValueError for a status Twilio does not send for an outbound message."""
    rank = STATUS_RANK.get(incoming)
    if rank is None:
        raise ValueError(f"unknown message status {incoming!r}")
    if incoming in seen or incoming == current:
        return "duplicate"
    if current in _NOT_DELIVERED:
        return "out_of_order"
    if current is None or rank > STATUS_RANK.get(current, -1):
        return "advanced"
    return "out_of_order"
