"""What the workers of one service share through the store, on SQLite and PostgreSQL: the
last good answers behind fallbacks, one credential refresh per 401 storm, who is alive,
and the scorecards. Each "worker" here has its own database engine and threads, as a
process of its own would."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from integration.clients._http import VendorHttp
from integration.clients.tokens import OAuthTokenManager
from integration.store.credentials import SharedCredential
from integration.store.database import Database
from integration.store.last_good import SharedLastGood
from integration.store.scorecards import Scorecards, ScorecardTooLarge
from integration.store.workers import WorkerRegistry, process_alive
from integration.transports import HttpxTransport
from tests._support.clocks import ManualClock
from tests.unit.test_client_tokens import TokenEndpoint


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000.0)


@pytest.fixture
async def dbs(store_url: str) -> AsyncIterator[list[Database]]:
    opened = [Database(store_url) for _ in range(2)]
    for db in opened:
        await db.start()
    yield opened
    for db in opened:
        await db.aclose()


async def test_a_good_answer_one_worker_had_is_another_workers_fallback(
    dbs: list[Database], clock: ManualClock
) -> None:
    one, two = (SharedLastGood(db, wall_clock=clock, flush_interval_s=60) for db in dbs)
    for shared in (one, two):
        await shared.start()
    try:
        one.remember("crm", "find_contacts", "+1415", {"Id": "003A"})
        # Noted only, not yet written: the other worker does not see it.
        assert await two.recall("crm", "find_contacts", "+1415", 3600) is None
        await one.flush()
        clock.advance(30)
        found = await two.recall("crm", "find_contacts", "+1415", 3600)
        assert found is not None and found.value == {"Id": "003A"} and found.age_s == 30
        assert await two.recall("crm", "find_contacts", "+1415", 10) is None  # too old
        clock.advance(1)
        two.remember("crm", "find_contacts", "+1415", {"Id": "003B"})
        await two.flush()
        newer = await one.recall("crm", "find_contacts", "+1415", 3600)
        assert newer is not None and newer.value == {"Id": "003B"} and newer.age_s == 0
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_401_storm_over_two_workers_refreshes_the_token_once(
    dbs: list[Database], clock: ManualClock
) -> None:
    endpoint = TokenEndpoint()
    transport = HttpxTransport(transport=httpx.MockTransport(endpoint))
    managers = [
        OAuthTokenManager(
            VendorHttp(transport, "crm", "http://crm.test"),
            "id",
            "secret",
            clock=clock,
            default_ttl_s=3600,
            refresh_margin_s=60,
            shared=SharedCredential(db, "crm", f"w{n}", wall_clock=clock),
        )
        for n, db in enumerate(dbs)
    ]
    try:
        for db in dbs:
            await SharedCredential(db, "crm", "setup").start()
        first = await managers[0].token(5.0)
        assert await managers[1].token(5.0) == first  # the second worker used the first's
        assert endpoint.issued == 1 and managers[1].adopted == 1
        endpoint.gate.clear()  # the refresh stays in the air while the storm arrives
        storm = [asyncio.create_task(managers[n % 2].invalidate(first, 5.0)) for n in range(100)]
        await asyncio.sleep(0.3)
        endpoint.gate.set()
        fresh = await asyncio.gather(*storm)
        assert set(fresh) == {"token-2"} and endpoint.issued == 2
    finally:
        for manager in managers:
            await manager.aclose()
        await transport.aclose()


async def test_a_worker_that_stops_beating_or_whose_process_is_gone_is_dead(
    dbs: list[Database], clock: ManualClock
) -> None:
    one = WorkerRegistry(dbs[0], "w1", wall_clock=clock, heartbeat_s=3600, dead_after_s=5)
    two = WorkerRegistry(dbs[1], "w2", wall_clock=clock, heartbeat_s=3600, dead_after_s=5)
    one.publish(lambda: {"systems": {"crm": {"breaker": {"state": "open"}}}})
    await one.start()
    await two.start()
    try:
        assert [w.worker for w in await two.live()] == ["w1", "w2"]
        [w1] = [w for w in await two.live() if w.worker == "w1"]
        assert w1.snapshot["systems"]["crm"]["breaker"]["state"] == "open"
        clock.advance(6)
        await two.beat()
        assert await two.dead() == ["w1"] and await one.dead() == []  # w2 just beat
        await one.beat()
        assert await two.dead() == []
        await two.forget("w1")
        assert [w.worker for w in await one.live()] == ["w2"]
        await one.beat()  # a worker forgotten while it stalled is back with its next beat
        assert {w.worker for w in await two.live()} == {"w1", "w2"}
    finally:
        await one.aclose()
        await two.aclose()
    assert await WorkerRegistry(dbs[0], "w3").live() == []  # both left when they stopped


async def test_a_dead_process_on_this_host_is_seen_at_once(
    dbs: list[Database], clock: ManualClock
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)"
    )
    try:
        registry = WorkerRegistry(dbs[0], "me", wall_clock=clock, heartbeat_s=3600)
        ghost = WorkerRegistry(dbs[1], "ghost", wall_clock=clock, heartbeat_s=3600)
        ghost.pid = child.pid
        await registry.start()
        await ghost.start()
        assert await registry.dead() == []
        child.kill()
        await child.wait()
        assert not process_alive(child.pid) and process_alive(os.getpid())
        assert await registry.dead() == ["ghost"]  # its heartbeat is fresh, its process gone
        await registry.aclose()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_scorecards_keep_the_newest_and_refuse_the_oversized(dbs: list[Database]) -> None:
    one, two = (Scorecards(db, kept=3, max_bytes=200) for db in dbs)
    await one.start()
    for n in range(5):
        await (one if n % 2 else two).add(f"run-{n}", f"2031-01-01T00:0{n}Z", n % 2 == 0, {"n": n})
    kept: list[dict[str, Any]] = await two.newest()
    assert [k["name"] for k in kept] == ["run-4", "run-3", "run-2"]
    assert kept[0] == {
        "name": "run-4",
        "started_at": "2031-01-01T00:04Z",
        "passed": True,
        "scorecard": {"n": 4},
    }
    with pytest.raises(ScorecardTooLarge, match="200 bytes"):
        await one.add("huge", "now", True, {"x": "y" * 500})
    assert len(await one.newest()) == 3
