"""Call history as a Twilio account would report it, keyed by the same numbers as the CRM."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from operator import attrgetter

from ._clock import between
from ._draw import Weighted, randint
from .model import CallDirection, CallRecord, CallStatus
from .phones import COMPANY_NUMBER

HISTORY_DAYS = 180
MAX_CALLS_PER_CUSTOMER = 6
MAX_CALLS_PER_PROSPECT = 2
INBOUND_SHARE = 0.7

_STATUSES: tuple[CallStatus, ...] = ("completed", "busy", "no-answer", "failed", "canceled")
# Callers who hang up before we answer show up as "canceled"; outbound calls often miss.
_STATUS: dict[CallDirection, Weighted[CallStatus]] = {
    "inbound": Weighted(_STATUSES, (82, 2, 4, 3, 9)),
    "outbound-api": Weighted(_STATUSES, (55, 10, 28, 4, 3)),
}
# Price per started minute in hundredths of a cent (Twilio US list prices, rounded).
_RATE_PER_MIN: dict[CallDirection, int] = {"inbound": 85, "outbound-api": 140}
_LOG_MEDIAN_TALK = math.log(240)


def _call(
    rng: random.Random, number: str, customer_id: str | None, earliest: datetime, now: datetime
) -> CallRecord:
    inbound = rng.random() < INBOUND_SHARE
    direction: CallDirection = "inbound" if inbound else "outbound-api"
    status = _STATUS[direction].draw(rng)
    duration, end, price = 0, None, None
    if status == "completed":
        # Talk time is lognormal around four minutes, clamped to 5 s .. 1 h.
        duration = min(max(int(math.exp(_LOG_MEDIAN_TALK + 0.8 * rng.gauss())), 5), 3600)
    # Every call, including its talk time, ended before the reference "now".
    start = between(rng, earliest, now - timedelta(seconds=duration + 60))
    if duration:
        end = start + timedelta(seconds=duration)
        price = max(1, math.ceil(math.ceil(duration / 60) * _RATE_PER_MIN[direction] / 100))
    return CallRecord(
        f"CA{rng.getrandbits(128):032x}",
        number if inbound else COMPANY_NUMBER,
        COMPANY_NUMBER if inbound else number,
        direction,
        status,
        start,
        end,
        duration,
        price,
        customer_id,
    )


def make_calls(
    rng: random.Random, callers: Iterable[tuple[str, str | None, datetime]], now: datetime
) -> list[CallRecord]:
    """Calls for (phone, customer_id or None, known since) callers, oldest first.

    A caller appears in the history only after they became known, so a customer who
    joined last week has at most a week of calls.
    """
    window_start = now - timedelta(days=HISTORY_DAYS)
    calls: list[CallRecord] = []
    for number, customer_id, since in callers:
        most = MAX_CALLS_PER_CUSTOMER if customer_id else MAX_CALLS_PER_PROSPECT
        earliest = max(window_start, since)
        calls.extend(
            _call(rng, number, customer_id, earliest, now) for _ in range(randint(rng, 0, most))
        )
    calls.sort(key=attrgetter("start_time", "sid"))
    return calls
