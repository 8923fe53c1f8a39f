"""An injected clock that stands still until a test moves it."""

from __future__ import annotations

__all__ = ["ManualClock"]


class ManualClock:
    """Pass it wherever a ``clock: Callable[[], float]`` is taken; set or advance ``now``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
