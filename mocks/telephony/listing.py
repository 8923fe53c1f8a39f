"""Reading the Calls list: Twilio's filters, its PageToken paging and its page envelope.

Filters (all optional): ``To``, ``From``, ``ParentCallSid``, ``Status`` and ``StartTime`` /
``EndTime`` with ``<`` or ``>`` appended for "on or before" / "on or after". A date
(``YYYY-MM-DD``, UTC) covers that whole day; a full timestamp (what twilio-python sends for
a ``datetime``) is an exact bound, or its day for the plain ``StartTime=``.

Paging is by cursor, like Twilio's: ``PageToken=PA<sid>`` continues after that call,
``PB<sid>`` goes back before it; ``Page`` only labels the page (and, without a token,
skips ``Page * PageSize`` calls).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any
from urllib.parse import quote, urlencode

from mocks.dataset import CallRecord
from mocks.telephony.store import CallLog

__all__ = ["BadParameter", "CallQuery", "list_page"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "canceled",
    "completed",
    "failed",
    "busy",
    "no-answer",
)
_FILTERS = (
    "To",
    "From",
    "ParentCallSid",
    "Status",
    "StartTime",
    "StartTime<",
    "StartTime>",
    "EndTime",
    "EndTime<",
    "EndTime>",
)
_DAY_END = timedelta(days=1, microseconds=-1)

Check = Callable[[CallRecord], bool]


class BadParameter(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"Invalid {param}: {message}")
        self.param = param


@dataclass(frozen=True)
class _Window:
    """Inclusive bounds on a moment; either may be open."""

    earliest: datetime | None = None
    latest: datetime | None = None

    def narrowed(self, earliest: datetime | None, latest: datetime | None) -> _Window:
        lows = [d for d in (self.earliest, earliest) if d is not None]
        highs = [d for d in (self.latest, latest) if d is not None]
        return _Window(max(lows) if lows else None, min(highs) if highs else None)

    @property
    def is_open(self) -> bool:
        return self.earliest is None and self.latest is None

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.is_open
        return (self.earliest is None or moment >= self.earliest) and (
            self.latest is None or moment <= self.latest
        )


@dataclass(frozen=True)
class CallQuery:
    filters: tuple[tuple[str, str], ...] = ()  # as they go back into page URIs
    to: str | None = None
    from_: str | None = None
    parent_call_sid: str | None = None
    status: str | None = None
    started: _Window = field(default_factory=_Window)
    ended: _Window = field(default_factory=_Window)
    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 0
    page_token: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> CallQuery:
        kept: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        windows = {"StartTime": _Window(), "EndTime": _Window()}
        for name in _FILTERS:
            raw = params.get(name)
            if raw is None or raw == "":
                continue
            if name in ("To", "From"):
                raw = _phone(raw)
                values["to" if name == "To" else "from_"] = raw
            elif name == "Status":
                if raw not in STATUSES:
                    raise BadParameter(name, f"must be one of {', '.join(STATUSES)}")
                values["status"] = raw
            elif name == "ParentCallSid":
                values["parent_call_sid"] = raw
            else:
                base = name.rstrip("<>")
                windows[base] = windows[base].narrowed(*_bounds(name, raw))
            kept.append((name, raw))
        return cls(
            filters=tuple(kept),
            started=windows["StartTime"],
            ended=windows["EndTime"],
            page_size=_int(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
            page=_int(params, "Page", 0, 0, 10**9),
            page_token=params.get("PageToken") or None,
            **values,
        )

    def uri(self, base: str, page: int, token: str | None = None) -> str:
        pairs = [*self.filters, ("PageSize", str(self.page_size)), ("Page", str(page))]
        if token:
            pairs.append(("PageToken", token))
        return f"{base}?{urlencode(pairs, quote_via=quote)}"


def list_page(
    log: CallLog, query: CallQuery, base_uri: str
) -> tuple[list[CallRecord], dict[str, Any]]:
    """The calls on the requested page and the rest of Twilio's envelope."""
    candidates, checks = _plan(log, query)

    def matches(start: int, step: int) -> Iterator[int]:
        index = start
        while 0 <= index < len(candidates):
            rank = candidates[index]
            if all(check(log.calls[rank]) for check in checks):
                yield rank
            index += step

    size = query.page_size
    token = query.page_token
    if token is None:
        forward = matches(0, 1)
        ranks = list(islice(forward, query.page * size, query.page * size + size))
    else:
        anchor = log.rank_of(token[2:]) if token[:2] in ("PA", "PB") else None
        if anchor is None:
            raise BadParameter(
                "PageToken", "does not point at a call of this list; follow next_page_uri"
            )
        if token.startswith("PA"):
            ranks = list(islice(matches(bisect_right(candidates, anchor), 1), size))
        else:
            ranks = list(islice(matches(bisect_left(candidates, anchor) - 1, -1), size))[::-1]
    calls = [log.calls[rank] for rank in ranks]
    next_uri = previous_uri = None
    if ranks and _exists(matches(bisect_right(candidates, ranks[-1]), 1)):
        next_uri = query.uri(base_uri, query.page + 1, "PA" + calls[-1].sid)
    if ranks and _exists(matches(bisect_left(candidates, ranks[0]) - 1, -1)):
        previous_uri = query.uri(base_uri, max(query.page - 1, 0), "PB" + calls[0].sid)
    start = query.page * size
    envelope = {
        "end": start + max(len(calls) - 1, 0),
        "first_page_uri": query.uri(base_uri, 0),
        "next_page_uri": next_uri,
        "page": query.page,
        "page_size": size,
        "previous_page_uri": previous_uri,
        "start": start,
        "uri": query.uri(base_uri, query.page, token),
    }
    return calls, envelope


def _exists(found: Iterator[int]) -> bool:
    return next(found, None) is not None


def _plan(log: CallLog, q: CallQuery) -> tuple[Sequence[int], list[Check]]:
    """The smallest index that answers part of the query, and the checks left to run."""
    indexed: list[tuple[Sequence[int], Check]] = []
    if q.from_ is not None:
        indexed.append((log.ranks_from(q.from_), lambda c: c.from_number == q.from_))
    if q.to is not None:
        indexed.append((log.ranks_to(q.to), lambda c: c.to_number == q.to))
    if q.status is not None:
        indexed.append((log.ranks_with_status(q.status), lambda c: c.status == q.status))
    checks: list[Check] = []
    if q.parent_call_sid is not None:
        checks.append(lambda c: False)  # no call in the dataset has a parent
    if not q.ended.is_open:
        checks.append(lambda c: q.ended.contains(c.end_time))
    if not indexed:
        return log.ranks_started_between(q.started.earliest, q.started.latest), checks
    indexed.sort(key=lambda pair: len(pair[0]))
    if not q.started.is_open:
        checks.append(lambda c: q.started.contains(c.start_time))
    return indexed[0][0], checks + [check for _, check in indexed[1:]]


def _phone(raw: str) -> str:
    # An unencoded "+" in a query string arrives as a space.
    number = raw.strip()
    if number.isdigit():
        number = "+" + ("1" + number if len(number) == 10 else number)
    return number


def _moment(name: str, raw: str) -> date | datetime:
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that leaves year 1..9999
        raise BadParameter(name, "must be a date (YYYY-MM-DD) or a UTC timestamp") from None


def _bounds(name: str, raw: str) -> tuple[datetime | None, datetime | None]:
    moment = _moment(name, raw)
    if isinstance(moment, datetime):
        if name.endswith("<"):
            return None, moment
        if name.endswith(">"):
            return moment, None
        moment = moment.date()
    day_start = datetime.combine(moment, time(), tzinfo=UTC)
    if name.endswith("<"):
        return None, day_start + _DAY_END
    if name.endswith(">"):
        return day_start, None
    return day_start, day_start + _DAY_END


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, "must be an integer") from None
    if not low <= value <= high:
        raise BadParameter(name, f"must be between {low} and {high}")
    return value
