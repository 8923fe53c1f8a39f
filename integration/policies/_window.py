"""Counts over a sliding time window, kept in a fixed number of time slices.

Shared by the retry budget and the circuit breaker. Slices (rather than one timestamp per
event) keep memory bounded at any request rate; the price is that an event ages out
between ``window_s - window_s/slices`` and ``window_s`` after it happened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

__all__ = ["SlidingCounts"]


class SlidingCounts:
    """``width`` integer counters summed over the last ``window_s`` seconds of ``clock``."""

    def __init__(
        self, window_s: float, clock: Callable[[], float], *, width: int, slices: int = 50
    ) -> None:
        self._clock = clock
        self._slice_s = window_s / slices
        self._slices = slices
        self._width = width
        # each entry: [slice index, count_0, ..., count_{width-1}], oldest first
        self._buckets: deque[list[int]] = deque()
        # running totals of the buckets kept: every call records and reads, so summing
        # all the slices on each read was the breaker's biggest cost on a busy source
        self._sums = [0] * width

    def add(self, *counts: int) -> None:
        if len(counts) != self._width:
            raise ValueError(f"expected {self._width} counts, got {len(counts)}")
        index = self._prune()
        if self._buckets and self._buckets[-1][0] >= index:
            bucket = self._buckets[-1]  # same slice (or a clock that stepped back): merge
        else:
            bucket = [index, *([0] * self._width)]
            self._buckets.append(bucket)
        for i, count in enumerate(counts):
            bucket[i + 1] += count
            self._sums[i] += count

    def totals(self) -> tuple[int, ...]:
        self._prune()
        return tuple(self._sums)

    def clear(self) -> None:
        self._buckets.clear()
        self._sums = [0] * self._width

    def _prune(self) -> int:
        """Drop slices that fell out of the window; return the current slice index."""
        index = int(self._clock() // self._slice_s)
        oldest_kept = index - self._slices + 1
        while self._buckets and self._buckets[0][0] < oldest_kept:
            dropped = self._buckets.popleft()
            for i in range(self._width):
                self._sums[i] -= dropped[i + 1]
        return index
