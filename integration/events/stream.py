"""The recent past, in memory: a ring of events that readers page through by cursor.

A cursor is the last ``seq`` a reader has seen. ``since(cursor)`` answers the events after
it; when the ring has already dropped some of them (``cursor + 1 < oldest_seq``) the
reader is told so through ``gap(cursor)`` and can fetch the rest from the ``EventStore``.

``publish`` runs on the hot path of every source attempt, so it only stamps, appends, and
wakes long-polling readers when there are any. It must be called on the event loop's
thread (the executor's ``on_attempt`` is): the ring is not locked.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import replace

from integration.events.model import Event

__all__ = ["EventStream"]


class EventStream:
    def __init__(self, maxlen: int = 50_000, *, first_seq: int = 1) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self._ring: deque[Event] = deque(maxlen=maxlen)
        self._last_seq = first_seq - 1
        # Created by the first waiting reader and dropped on the next publish, so a
        # publish with nobody waiting costs one attribute check. The loop it belongs to
        # is kept beside it: an asyncio.Event cannot be awaited from another loop.
        self._signal: asyncio.Event | None = None
        self._signal_loop: asyncio.AbstractEventLoop | None = None

    @property
    def maxlen(self) -> int:
        return self._ring.maxlen or 0

    @property
    def last_seq(self) -> int:
        """The seq of the newest event published (``first_seq - 1`` before any)."""
        return self._last_seq

    @property
    def oldest_seq(self) -> int:
        """The seq of the oldest event still in the ring (``last_seq + 1`` when empty)."""
        return self._ring[0].seq if self._ring else self._last_seq + 1

    def __len__(self) -> int:
        return len(self._ring)

    def advance_to(self, seq: int) -> None:
        """Continue numbering after ``seq`` (the store's newest, after a restart)."""
        self._last_seq = max(self._last_seq, seq)

    def publish(self, event: Event) -> Event:
        """Stamp the next seq on ``event``, keep it, wake readers; returns the stamped event."""
        seq = self._last_seq + 1
        self._last_seq = seq
        if event.seq == 0:
            # The event was built for this publish and nobody else holds it yet: filling
            # in its one missing field costs ~0.1 µs, a dataclass copy ~3 µs.
            object.__setattr__(event, "seq", seq)
        else:
            event = replace(event, seq=seq)
        self._ring.append(event)
        if self._signal is not None:
            self._signal.set()
            self._signal = None
        return event

    def gap(self, cursor: int) -> bool:
        """True when events right after ``cursor`` have already left the ring."""
        return cursor + 1 < self.oldest_seq

    def since(
        self,
        cursor: int,
        limit: int = 500,
        *,
        call_id: str | None = None,
        kind: str | None = None,
    ) -> tuple[list[Event], int]:
        """Up to ``limit`` events after ``cursor`` matching the filters, and the next cursor.

        The next cursor is the seq of the last event looked at, matching or not, so a
        filtered reader does not scan the same events again. A cursor from the future
        (say, from before a restart) is pulled back to ``last_seq``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if cursor >= self._last_seq:
            return [], min(cursor, self._last_seq)
        start = max(0, cursor + 1 - self.oldest_seq)
        tail = itertools.islice(self._ring, start, None)
        if call_id is None and kind is None:
            found = list(itertools.islice(tail, limit))
            return found, found[-1].seq if found else cursor
        found = []
        next_cursor = cursor
        for event in tail:
            next_cursor = event.seq
            if (call_id is None or event.call_id == call_id) and (
                kind is None or event.kind == kind
            ):
                found.append(event)
                if len(found) == limit:
                    break
        return found, next_cursor

    async def wait_for(self, cursor: int, timeout_s: float) -> bool:
        """Wait until an event after ``cursor`` exists, at most ``timeout_s``; True if one does."""
        if self._last_seq > cursor:
            return True
        if timeout_s <= 0:
            return False
        try:
            async with asyncio.timeout(timeout_s):
                while self._last_seq <= cursor:
                    await self._current_signal().wait()
        except TimeoutError:
            return self._last_seq > cursor
        return True

    def _current_signal(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._signal is None or self._signal_loop is not loop:
            self._signal = asyncio.Event()
            self._signal_loop = loop
        return self._signal
