"""Login sessions: a token that lasts ``ttl_s`` from Login (on the injected clock), then
answers ``CL-SEC-0102`` until the client logs in again."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_TTL_S", "MAX_SESSIONS", "SessionCheck", "Sessions"]

MAX_SESSIONS = 5_000  # the oldest are dropped first, as the core's session table does
DEFAULT_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class SessionCheck:
    ok: bool
    expired: bool = False  # known but past its time (else unknown)


class Sessions:
    def __init__(self, clock: Callable[[], float], ttl_s: float = DEFAULT_TTL_S) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._ends: dict[str, float] = {}
        self._lock = threading.Lock()

    def open(self) -> tuple[str, float]:
        """A new token and the seconds it lasts."""
        token = "CLS" + secrets.token_hex(16).upper()
        with self._lock:
            self._ends[token] = self._clock() + self.ttl_s
            while len(self._ends) > MAX_SESSIONS:
                self._ends.pop(next(iter(self._ends)))
        return token, self.ttl_s

    def check(self, token: str | None) -> SessionCheck:
        ends = self._ends.get(token) if token else None
        if ends is None:
            return SessionCheck(False)
        if self._clock() >= ends:
            return SessionCheck(False, expired=True)
        return SessionCheck(True)

    def close(self, token: str) -> None:
        with self._lock:
            self._ends.pop(token, None)

    def expire_all(self) -> int:
        """End every live session now (a core restart); answers how many were live."""
        now = self._clock()
        with self._lock:
            live = [token for token, ends in self._ends.items() if ends > now]
            for token in live:
                self._ends[token] = now
        return len(live)

    def live(self) -> int:
        now = self._clock()
        return sum(1 for ends in list(self._ends.values()) if ends > now)

    def clear(self) -> None:
        with self._lock:
            self._ends.clear()
