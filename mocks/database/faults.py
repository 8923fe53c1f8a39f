"""Faults that happen to the database itself, not to one HTTP request.

Each runs in a background thread that does the real thing: holds an exclusive lock, swaps
the SQLite file for garbage, or takes the lock in a duty cycle. One fault at a time: a new
one releases the last. ``release_all`` (DELETE, reset, shutdown) stops and joins them.

Already-open SQLite connections keep reading the real file through an outage (they hold
its inode); only new connections fail. Readers should open per query (``NullPool``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mocks.database._engines import ExclusiveLock
from mocks.database.store import DatabaseStore

__all__ = ["DatabaseFaults", "FaultNotStarted", "FaultNotSupported"]

_START_TIMEOUT_S = 10.0
_PLACEHOLDER = b"switchboard: injected database outage; the real file is back soon.\n" * 64


class FaultNotSupported(Exception):
    """The fault makes no sense for this database (an outage of a PostgreSQL server)."""


class FaultNotStarted(Exception):
    """The fault thread could not take hold (the lock was not granted in time, say)."""


@dataclass
class _Fault:
    kind: str
    seconds: float
    started: float
    detail: dict[str, Any]
    stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def deadline(self) -> float:
        return self.started + self.seconds


class DatabaseFaults:
    def __init__(self, store: DatabaseStore, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self._faults: list[_Fault] = []
        self._guard = threading.Lock()

    # -- the faults ---------------------------------------------------------------------

    def lock(self, seconds: float) -> dict[str, Any]:
        def hold(fault: _Fault) -> None:
            holder = ExclusiveLock(self.store.engine)
            try:
                holder.acquire()
                try:
                    fault.ready.set()
                    self._wait_out(fault)
                finally:
                    holder.release()
            finally:
                holder.close()

        self._supported_lock()
        return self._start("lock", seconds, {}, hold)

    def outage(self, seconds: float) -> dict[str, Any]:
        path, aside = self.store.file, self.store.outage_file
        if path is None or aside is None:
            raise FaultNotSupported(
                f"an outage swaps the SQLite file, and this database is {self.store.dialect}; "
                "take the server down instead, or use the lock or slow actions"
            )

        def swap(fault: _Fault) -> None:
            _swap_in_placeholder(path, aside)
            try:
                fault.ready.set()
                self._wait_out(fault)
            finally:
                os.replace(aside, path)  # atomic: readers see the old file or the real one

        return self._start("outage", seconds, {}, swap)

    def slow(self, seconds: float, hold_ms: float, every_ms: float) -> dict[str, Any]:
        def duty_cycle(fault: _Fault) -> None:
            holder = ExclusiveLock(self.store.engine)
            try:
                while not fault.stop.is_set() and self.clock() < fault.deadline:
                    holder.acquire()
                    fault.ready.set()  # once the lock was granted the fault is real
                    try:
                        fault.stop.wait(hold_ms / 1000)
                    finally:
                        holder.release()
                    fault.stop.wait((every_ms - hold_ms) / 1000)
            finally:
                holder.close()

        self._supported_lock()
        return self._start("slow", seconds, {"hold_ms": hold_ms, "every_ms": every_ms}, duty_cycle)

    # -- bookkeeping --------------------------------------------------------------------

    def active(self) -> list[dict[str, Any]]:
        with self._guard:
            self._faults = [f for f in self._faults if f.thread is not None and f.thread.is_alive()]
            return [self._describe(f) for f in self._faults]

    def release_all(self) -> int:
        """Stop every fault now and wait for its thread to undo it; returns how many."""
        with self._guard:
            faults, self._faults = self._faults, []
        live = sum(1 for f in faults if f.thread is not None and f.thread.is_alive())
        for fault in faults:
            fault.stop.set()
        for fault in faults:
            if fault.thread is not None:
                fault.thread.join(timeout=_START_TIMEOUT_S)
        return live

    def _start(
        self, kind: str, seconds: float, detail: dict[str, Any], body: Callable[[_Fault], None]
    ) -> dict[str, Any]:
        self.release_all()
        fault = _Fault(kind=kind, seconds=seconds, started=self.clock(), detail=detail)

        def run() -> None:
            try:
                body(fault)
            except Exception as exc:  # reported to the caller that started the fault
                fault.error = f"{type(exc).__name__}: {exc}"
            finally:
                fault.ready.set()

        fault.thread = threading.Thread(target=run, name=f"database-{kind}", daemon=True)
        with self._guard:
            self._faults.append(fault)
        fault.thread.start()
        if not fault.ready.wait(_START_TIMEOUT_S) or fault.error is not None:
            fault.stop.set()
            raise FaultNotStarted(fault.error or f"the {kind} did not take hold in time")
        return self._describe(fault)

    def _wait_out(self, fault: _Fault) -> None:
        while not fault.stop.is_set():
            remaining = fault.deadline - self.clock()
            if remaining <= 0:
                return
            fault.stop.wait(min(remaining, 0.05))

    def _supported_lock(self) -> None:
        try:
            ExclusiveLock.statement_for(self.store.dialect)
        except NotImplementedError as exc:
            raise FaultNotSupported(str(exc)) from exc

    def _describe(self, fault: _Fault) -> dict[str, Any]:
        return {
            "kind": fault.kind,
            "seconds": fault.seconds,
            "remaining_s": round(max(0.0, fault.deadline - self.clock()), 3),
            **fault.detail,
        }


def _swap_in_placeholder(path: Path, aside: Path) -> None:
    """Move the real file aside and put garbage in its place, with no moment of no file.

    A missing file would be created empty by the next connection (a valid, empty
    database); a hard link keeps the real file while the placeholder renames over it.
    """
    placeholder = path.with_name(path.name + ".placeholder")
    placeholder.write_bytes(_PLACEHOLDER)
    try:
        os.link(path, aside)
    except OSError:  # no hard links on this filesystem: accept a moment without a file
        os.replace(path, aside)
    os.replace(placeholder, path)
