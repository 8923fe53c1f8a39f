"""The workers sharing one store: who is alive, and what each last said about itself.

Every worker (a process of the integration service, or one layer built in a test) has a
row it refreshes every ``heartbeat_s`` with a snapshot of its own state (breakers, its
dispatcher, admission). Another worker is dead when its heartbeat is older than
``dead_after_s``, or at once when it ran on this host and its process is gone (a SIGKILL,
an out-of-memory kill): then whatever it held (outbox leases) can be taken back without
waiting for the leases to run out. Readers that show the service as a whole (``GET
/systems``) combine the snapshots of the live workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.exc import IntegrityError

from integration.store.database import Database

__all__ = ["WorkerInfo", "WorkerRegistry", "default_worker_name", "metadata", "process_alive"]

log = logging.getLogger(__name__)

metadata = MetaData()

workers = Table(
    "layer_workers",
    metadata,
    Column("worker", String(128), primary_key=True),
    Column("host", String(128), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Column("snapshot", Text),
)
_w = workers.c


def default_worker_name() -> str:
    """``host:pid:tag``: unique per layer even when a test builds two in one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        # The state follows the command name in parentheses, which may itself hold spaces.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@dataclass(frozen=True)
class WorkerInfo:
    worker: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    snapshot: dict[str, Any]


class WorkerRegistry:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        wall_clock: Callable[[], float] = time.time,
        heartbeat_s: float = 1.0,
        dead_after_s: float = 5.0,
        snapshot: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.db = db
        self.name = name
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = dead_after_s
        self._wall = wall_clock
        self._snapshot = snapshot
        self._task: asyncio.Task[None] | None = None
        self._found_dead: dict[str, WorkerInfo] = {}
        self.on_forget: Callable[[WorkerInfo], None] | None = None  # a worker left for good

    def publish(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        """What this worker says about itself with each heartbeat."""
        self._snapshot = snapshot

    async def start(self) -> None:
        await self.db.start(metadata)
        await self.db.run_write(
            _join, self.name, self.host, self.pid, self._wall(), self._payload()
        )
        self._task = asyncio.create_task(self._beat(), name="worker-heartbeat")

    async def aclose(self) -> None:
        """Stop beating and leave: the others need not wait to learn this one is gone."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.db.started:
            with contextlib.suppress(Exception):
                await self.db.run_write(_forget, self.name)

    async def beat(self) -> None:
        """Refresh this worker's row now (the heartbeat task does it every ``heartbeat_s``)."""
        await self.db.run_write(_beat, self.name, self._wall(), self._payload())

    async def live(self) -> list[WorkerInfo]:
        """Every worker that is not dead, this one included, oldest first."""
        rows = await self.db.run(_all)
        return [w for w in rows if not self._dead(w)]

    async def dead(self) -> list[str]:
        """Workers that stopped without leaving (this one never)."""
        found = [w for w in await self.db.run(_all) if self._dead(w)]
        self._found_dead = {w.worker: w for w in found}
        return [w.worker for w in found]

    async def forget(self, worker: str) -> None:
        await self.db.run_write(_forget, worker)
        info = self._found_dead.pop(worker, None)
        if info is not None and info.host == self.host and self.on_forget is not None:
            self.on_forget(info)

    def _dead(self, info: WorkerInfo) -> bool:
        if info.worker == self.name:
            return False
        if info.host == self.host and not process_alive(info.pid):
            return True
        return info.heartbeat_at < self._wall() - self.dead_after_s

    def _payload(self) -> str | None:
        if self._snapshot is None:
            return None
        try:
            return orjson.dumps(self._snapshot(), default=str).decode()
        except Exception:  # a snapshot that fails must not stop the heartbeat
            log.exception("worker snapshot failed")
            return None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.beat()
            except Exception:  # the store is busy or gone for a moment: beat again later
                log.warning("worker heartbeat failed", exc_info=True)


# -- in the database's threads ----------------------------------------------------------------


def _join(db: Database, name: str, host: str, pid: int, now: float, snapshot: str | None) -> None:
    row = {"host": host, "pid": pid, "started_at": now, "heartbeat_at": now, "snapshot": snapshot}
    with db.write() as conn:
        if conn.execute(update(workers).where(_w.worker == name).values(**row)).rowcount:
            return
        try:
            with conn.begin_nested():
                conn.execute(workers.insert().values(worker=name, **row))
        except IntegrityError:
            conn.execute(update(workers).where(_w.worker == name).values(**row))


def _beat(db: Database, name: str, now: float, snapshot: str | None) -> None:
    values: dict[str, Any] = {"heartbeat_at": now}
    if snapshot is not None:
        values["snapshot"] = snapshot
    with db.write() as conn:
        done = conn.execute(update(workers).where(_w.worker == name).values(**values))
        if not done.rowcount:  # forgotten as dead while it stalled: back in the list
            conn.execute(
                workers.insert().values(
                    worker=name,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                    snapshot=snapshot,
                )
            )


def _all(db: Database) -> list[WorkerInfo]:
    with db.read() as conn:
        rows = conn.execute(select(workers).order_by(_w.started_at, _w.worker)).all()
    return [
        WorkerInfo(
            r.worker,
            r.host,
            r.pid,
            r.started_at,
            r.heartbeat_at,
            orjson.loads(r.snapshot) if r.snapshot else {},
        )
        for r in rows
    ]


def _forget(db: Database, name: str) -> None:
    with db.write() as conn:
        conn.execute(delete(workers).where(_w.worker == name))
