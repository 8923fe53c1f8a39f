"""The account's call log, newest first, indexed so filtered pages are cheap at 300k calls.

A call's *rank* is its position in the newest-first order; every index holds ranks in
ascending order, so any filtered view is still newest first and a page boundary is one
bisect away.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime

from mocks.dataset import CallRecord, Dataset

__all__ = ["CallLog"]


class CallLog:
    def __init__(self, dataset: Dataset) -> None:
        # Twilio lists newest first; the sid breaks ties so the order is total and stable.
        # Float keys: comparing aware datetimes is eight times slower at 300k calls.
        self.calls: tuple[CallRecord, ...] = tuple(
            sorted(dataset.calls, key=lambda c: (c.start_time.timestamp(), c.sid), reverse=True)
        )
        self._rank = {call.sid: rank for rank, call in enumerate(self.calls)}
        self._by_from: dict[str, list[int]] = {}
        self._by_to: dict[str, list[int]] = {}
        self._by_status: dict[str, list[int]] = {}
        for rank, call in enumerate(self.calls):
            self._by_from.setdefault(call.from_number, []).append(rank)
            self._by_to.setdefault(call.to_number, []).append(rank)
            self._by_status.setdefault(call.status, []).append(rank)
        # Negated start times ascend with rank, so a time bound is a bisect.
        self._start_keys = [-call.start_time.timestamp() for call in self.calls]

    def __len__(self) -> int:
        return len(self.calls)

    def get(self, sid: str) -> CallRecord | None:
        rank = self._rank.get(sid)
        return None if rank is None else self.calls[rank]

    def rank_of(self, sid: str) -> int | None:
        return self._rank.get(sid)

    def ranks_from(self, number: str) -> Sequence[int]:
        return self._by_from.get(number, ())

    def ranks_to(self, number: str) -> Sequence[int]:
        return self._by_to.get(number, ())

    def ranks_with_status(self, status: str) -> Sequence[int]:
        return self._by_status.get(status, ())

    def ranks_started_between(self, earliest: datetime | None, latest: datetime | None) -> range:
        """Ranks of calls with earliest <= start_time <= latest (either bound optional)."""
        low = 0 if latest is None else bisect_left(self._start_keys, -latest.timestamp())
        high = (
            len(self.calls)
            if earliest is None
            else bisect_right(self._start_keys, -earliest.timestamp())
        )
        return range(low, max(low, high))
