"""Rates from cumulative counters: keep a few recent samples, divide the difference.

The services expose totals (lookups, attempts per system, deliveries, mock requests);
a rate needs two readings. Each browser session keeps its own short window of readings,
taken from the shared cache, so the rate is measured between real fetches (their
``fetched_at``), not between redraws that saw the same cached answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

__all__ = ["RateWindow"]


class RateWindow:
    def __init__(self, window_s: float = 15.0, max_samples: int = 64) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, dict[str, float]]] = deque(maxlen=max_samples)

    def add(self, at: float, counters: Mapping[str, float]) -> None:
        if self._samples and at <= self._samples[-1][0]:
            return  # the same cached answer again: no new information
        self._samples.append((at, dict(counters)))
        while len(self._samples) > 2 and at - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def rate(self, key: str) -> float | None:
        """Per second over the window; None until two readings exist (or after a reset)."""
        if len(self._samples) < 2:
            return None
        (t0, first), (t1, last) = self._samples[0], self._samples[-1]
        if key not in last:
            return None
        before = first.get(key, 0.0)
        if last[key] < before or t1 <= t0:
            return None  # the counter was reset (a restart, /_chaos/reset)
        return (last[key] - before) / (t1 - t0)

    def delta(self, key: str) -> float | None:
        """The counter's growth over the window (None as for ``rate``)."""
        if len(self._samples) < 2:
            return None
        first, last = self._samples[0][1], self._samples[-1][1]
        if key not in last or last[key] < first.get(key, 0.0):
            return None
        return last[key] - first.get(key, 0.0)

    def share(self, part: str, whole: str) -> float | None:
        """``part``'s growth as a share of ``whole``'s growth (a recent error rate, say)."""
        grown = self.delta(whole)
        if not grown:
            return None
        return (self.delta(part) or 0.0) / grown
