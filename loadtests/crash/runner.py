"""The crash test: kill the integration service under load, then count every write.

    python -m loadtests.crash [--kills 3] [--rate 20] [--workers 1] [--store sqlite]

Steady traffic (start a call, one tool, end it with effects for five systems) runs
against ``python -m app integration`` while it is killed with SIGKILL at random moments,
``--kills`` times. With one worker the process is killed and started again; with
``--workers N`` one worker at a time is killed (in turn) and uvicorn's supervisor starts
its replacement while the others keep serving. A client whose request died with a process
asks again, as a voice platform would. Afterwards the outbox is left to drain and every
effect the API acknowledged is looked up in the mocks' ledgers by its idempotency key:
applied once is right; missing is lost; twice is a duplicate. Calls whose worker was
killed between their start and their end, and that ended all the same, are counted too.

``--store postgres`` runs the layer on a throwaway PostgreSQL server
(``loadtests.stack.postgres``); the default is SQLite in the state folder. Run alone, it starts
the mocks too; the test suite hands in its own (tests/live/test_outbox_crash.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from integration.access import API_TOKEN_ENV, ensure_secrets
from loadtests.stack.ledgers import count_writes
from loadtests.stack.processes import free_port, running, stop_process

__all__ = ["CrashReport", "CrashTest", "main"]

CHAOS_TOKEN = "switchboard-chaos"


@dataclass
class CrashReport:
    calls_started: int = 0
    calls_acknowledged: int = 0
    effects_acknowledged: int = 0
    applied: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    dead: int = 0
    kills: int = 0
    answers_after_restart: int = 0  # requests whose answer died with a process, asked again
    through_a_kill: int = 0  # calls whose worker died mid-call, ended all the same
    drain_s: float = 0.0
    workers: int = 1
    store: str = "sqlite"

    def table(self) -> str:
        rows = [
            ("workers, store", f"{self.workers}, {self.store}"),
            ("kills (SIGKILL) and restarts", self.kills),
            (
                "calls started / ended and acknowledged",
                f"{self.calls_started} / {self.calls_acknowledged}",
            ),
            ("requests asked again after a kill", self.answers_after_restart),
            ("calls that lived through their worker's kill", self.through_a_kill),
            ("effects acknowledged", self.effects_acknowledged),
            ("effects applied (mocks' ledgers)", self.applied),
            ("duplicates", len(self.duplicates)),
            ("lost", len(self.lost)),
            ("dead letters", self.dead),
            ("drain after the last restart", f"{self.drain_s:.1f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

    @property
    def exactly_once(self) -> bool:
        return not self.lost and not self.duplicates and self.dead == 0


class CrashTest:
    """One run against the mocks at ``mocks_url``; the integration process is ours."""

    def __init__(
        self,
        mocks_url: str,
        *,
        phones: Sequence[str],
        state_dir: Path,
        database_url: str,
        chaos_token: str = CHAOS_TOKEN,
        kills: int = 3,
        rate_per_s: float = 20.0,
        seed: int = 7,
        uptime_s: tuple[float, float] = (0.8, 2.0),
        workers: int = 1,
        store_url: str | None = None,
    ) -> None:
        self.mocks_url = mocks_url.rstrip("/")
        self.phones = list(phones)
        self.state_dir = state_dir
        self.database_url = database_url
        self.control = {"Authorization": f"Bearer {chaos_token}"}
        self.kills = kills
        self.rate_per_s = rate_per_s
        self.rng = random.Random(seed)
        self.uptime_s = uptime_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.report = CrashReport()
        self.run_id = secrets.token_hex(4)  # not from the seeded rng: every run differs
        self.acknowledged: dict[str, str] = {}  # idempotency key -> system
        self._process: subprocess.Popen[bytes] | None = None
        self._log = state_dir / "integration.log"
        self._slot = 0
        self.workers = workers
        self.store_url = store_url
        self.report.workers = workers
        self.report.store = "postgres" if store_url and "postgres" in store_url else "sqlite"
        self._kills: list[tuple[str, float]] = []  # (worker, when) of each worker killed
        self._calls: dict[str, tuple[float, float]] = {}  # call id -> (started, ended)
        token = ensure_secrets(state_dir)[API_TOKEN_ENV]  # the service reads them there too
        self.api = {"Authorization": f"Bearer {token}"}

    # -- the integration process -------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SWITCHBOARD_INTEGRATION_MOCKS_URL": self.mocks_url,
            "SWITCHBOARD_INTEGRATION_STATE_DIR": str(self.state_dir),
            "SWITCHBOARD_INTEGRATION_DATABASE_URL": self.database_url,
        }

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        args = ["integration", "--port", str(self.port), "--workers", str(self.workers)]
        if self.store_url:
            args += ["--store-url", self.store_url]
        with self._log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def _start(self) -> None:
        self._process = self._spawn()
        async with httpx.AsyncClient(timeout=1) as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"integration exited; see {self._log}")
                try:
                    if len(await self._live_workers(http)) == self.workers:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError("the integration service did not come up in 60 s")

    async def _live_workers(self, http: httpx.AsyncClient) -> list[str]:
        answer = await http.get(f"{self.url}/workers")
        return [w["worker"] for w in answer.json()["workers"]] if answer.status_code == 200 else []

    async def _kill(self) -> None:
        """One process gone with SIGKILL: the service, or one of its workers in turn."""
        assert self._process is not None
        if self.workers == 1:
            async with httpx.AsyncClient(timeout=5) as http:
                [worker] = await self._live_workers(http)
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._kills.append((worker, time.monotonic()))
            self.report.kills += 1
            await self._start()
            return
        async with httpx.AsyncClient(timeout=5) as http:  # a new connection: any worker
            live = sorted(await self._live_workers(http))
            victim = live[self.report.kills % len(live)]
            os.kill(_pid_of(victim), signal.SIGKILL)
            self._kills.append((victim, time.monotonic()))
            self.report.kills += 1
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the supervisor starts its replacement
                await asyncio.sleep(0.1)
                with contextlib.suppress(httpx.TransportError):
                    now = await self._live_workers(http)
                    if len(now) == self.workers and victim not in now:
                        return
        raise TimeoutError("the killed worker was not replaced in 60 s")

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)

    # -- traffic ------------------------------------------------------------------------

    def _outcome(self, n: int) -> dict[str, Any]:
        # One hour-long slot per call, far in the future: no two calls ever collide.
        start = datetime(2031, 1, 6, 9, tzinfo=UTC) + timedelta(hours=n)
        return {
            "disposition": "booked",
            "summary": f"crash-test call {n}",
            "booking": {
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
                "summary": "Branch appointment",
            },
            # Not Slack: it allows about one post a second per channel, so 20 calls a second
            # to one channel would turn the drain into a lesson in Retry-After.
            "messages": [
                {"channel": "sms", "to": "+14155550100"},
                {"channel": "email", "to": f"caller{n}@example.com", "subject": "Your booking"},
            ],
        }

    async def _ask(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> httpx.Response | None:
        """POST, asked once more after the service is back if a process died under it."""
        for asked in range(2):
            try:
                return await http.post(path, json=body)
            except httpx.TransportError:
                if asked:
                    return None
                self.report.answers_after_restart += 1
                await self._back_up(http)
        return None

    async def _one_call(self, http: httpx.AsyncClient, n: int) -> None:
        phone = self.phones[n % len(self.phones)]
        call_id = f"crash-{self.run_id}-{n}"  # unique per run: keys never meet old ones
        started = await self._ask(http, "/calls", {"phone": phone, "call_id": call_id})
        # 409 on the second ask: the first started the call before its answer was lost.
        if started is None or started.status_code not in (201, 409):
            return
        self.report.calls_started += 1
        began = time.monotonic()
        await asyncio.sleep(self.rng.uniform(0.05, 0.4))  # the caller talks
        await self._ask(
            http,
            f"/calls/{call_id}/tools/check_eligibility",
            {"arguments": {"product": "LOAN-AUTO"}},
        )
        ended = await self._ask(http, f"/calls/{call_id}/end", self._outcome(n))
        if ended is not None and ended.status_code in (200, 201):
            self.report.calls_acknowledged += 1
            self._calls[call_id] = (began, time.monotonic())
            for effect in ended.json()["effects"]:
                self.acknowledged[effect["idempotency_key"]] = effect["system"]

    async def _back_up(self, http: httpx.AsyncClient) -> None:
        while True:
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)

    async def _traffic(self, stop: asyncio.Event) -> None:
        interval = 1 / self.rate_per_s
        calls: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(base_url=self.url, headers=self.api, timeout=30) as http:
            n = 0
            while not stop.is_set():
                task = asyncio.create_task(self._one_call(http, n))
                calls.add(task)
                task.add_done_callback(calls.discard)
                n += 1
                await asyncio.sleep(self.rng.expovariate(1 / interval))  # Poisson arrivals
            await asyncio.gather(*calls)

    async def _killer(self) -> None:
        for _ in range(self.kills):
            await asyncio.sleep(self.rng.uniform(*self.uptime_s))
            await self._kill()

    # -- verdict ------------------------------------------------------------------------

    async def _drain(self, timeout_s: float = 90) -> None:
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=self.url, headers=self.api, timeout=10) as http:
            while time.monotonic() - began < timeout_s:
                summary = (await http.get("/outbox")).json()
                if summary["pending"] == 0 and summary["in_flight"] == 0:
                    self.report.dead = summary["dead"]
                    self.report.drain_s = time.monotonic() - began
                    return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"the outbox did not drain in {timeout_s} s")

    def _count(self) -> None:
        counted = count_writes(self.mocks_url, self.acknowledged, self.control)
        self.report.applied = counted.applied
        self.report.duplicates.extend(counted.duplicates)
        self.report.lost.extend(counted.lost)
        self.report.effects_acknowledged = counted.acknowledged

    async def _count_survivors(self) -> None:
        """Calls whose starting worker was killed while they were under way."""
        async with httpx.AsyncClient(base_url=self.url, headers=self.api, timeout=10) as http:
            for call_id, (began, ended) in self._calls.items():
                worker = (await http.get(f"/calls/{call_id}")).json().get("worker")
                if any(w == worker and began < at < ended for w, at in self._kills):
                    self.report.through_a_kill += 1

    async def run(self) -> CrashReport:
        await self._start()
        try:
            stop = asyncio.Event()
            traffic = asyncio.create_task(self._traffic(stop))
            await self._killer()
            await asyncio.sleep(self.rng.uniform(*self.uptime_s))
            stop.set()
            await traffic
            await self._drain()
            self._count()
            await self._count_survivors()
        finally:
            self.stop()
        return self.report


@contextmanager
def _mocks(customers: int, seed: int, state_dir: Path) -> Iterator[tuple[str, list[str]]]:
    from mocks.dataset import generate_dataset

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"SWITCHBOARD_STATE_DIR": str(state_dir), "SWITCHBOARD_CHAOS_TOKEN": CHAOS_TOKEN}
    args = ["mocks", "--port", str(port), "--customers", str(customers), "--seed", str(seed)]
    with running(args, f"{url}/_mock/health", env=env):
        phones = [c.phone_e164 for c in generate_dataset(customers, seed=seed).customers[:200]]
        yield url, phones


def _pid_of(worker: str) -> int:
    """A worker's process id, from its name in the store (``host:pid:tag``)."""
    return int(worker.split(":")[1])


@contextmanager
def _store(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    from loadtests.stack.postgres import temporary_postgres

    with temporary_postgres() as server:
        yield server.url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.crash", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="calls started per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--state-dir", type=Path, default=Path(".state/crash-test"))
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1-8)")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgres", "both"),
        default="sqlite",
        help="the layer's store: SQLite in the state folder, or a throwaway PostgreSQL",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 8:
        parser.error("--workers must be between 1 and 8")
    stores = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    passed = True
    for kind in stores:
        shutil.rmtree(args.state_dir, ignore_errors=True)  # a run starts from an empty outbox
        mocks_state = args.state_dir / "mocks"
        print(
            f"crash test: {args.workers} worker(s) on {kind}, {args.kills} kills, "
            f"{args.rate:g} calls/s...",
            flush=True,
        )
        with _mocks(1000, 42, mocks_state) as (url, phones), _store(kind) as store_url:
            test = CrashTest(
                url,
                phones=phones,
                state_dir=args.state_dir / "integration",
                database_url=f"sqlite:///{mocks_state / 'enterprise.db'}",
                kills=args.kills,
                rate_per_s=args.rate,
                seed=args.seed,
                workers=args.workers,
                store_url=store_url,
            )
            report = asyncio.run(test.run())
        print(report.table(), flush=True)
        passed = passed and report.exactly_once
    return 0 if passed else 1
