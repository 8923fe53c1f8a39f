"""Calls in the store, on SQLite and PostgreSQL: what one worker stores, any other serves;
numbers within a call never repeat, whichever workers hand them out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from integration.calls.store import CallExists, CallStore
from integration.calls.vapi import unknown_caller_view
from integration.lookup.view import CallerView
from integration.store.database import Database
from integration.tools import Booking, CallHasEnded
from tests._support.clocks import ManualClock

VIEW_JSON = unknown_caller_view().model_copy(update={"phone": "+14155550100"}).model_dump_json()


def view() -> CallerView:
    return CallerView.model_validate_json(VIEW_JSON)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000.0)


@pytest.fixture
async def workers(store_url: str, clock: ManualClock) -> AsyncIterator[list[CallStore]]:
    """Two workers' call stores over one database (each its own engine and threads)."""
    stores = [
        CallStore(Database(store_url), wall_clock=clock, worker=name) for name in ("w1", "w2")
    ]
    for store in stores:
        await store.start()
    yield stores
    for store in stores:
        await store.db.aclose()


async def test_a_call_stored_by_one_worker_is_served_by_another(
    workers: list[CallStore], clock: ManualClock
) -> None:
    one, two = workers
    created = await one.create("c1", "api", view())
    assert created.worker == "w1" and created.started_at == 1_000.0
    with pytest.raises(CallExists):
        await two.create("c1", "vapi", view())  # ids are unique across origins too
    admitted = await two.begin_tool("c1", "api")
    assert admitted is not None and admitted.seq == 1 and admitted.phone == "+14155550100"
    assert admitted.view == created.view and admitted.booking is None
    booking = Booking(effect="tool_booking_1", start="2031-01-06T09:00:00+00:00", when="Monday")
    await two.finish_tool("c1", 1, {"tool": "book_appointment", "status": "ok"}, booking=booking)
    again = await one.begin_tool("c1")
    assert again is not None and again.seq == 2 and again.booking == booking
    await one.finish_tool("c1", 2, {"tool": "escalate_to_human"}, handover={"id": "ho_1"})
    record = await two.get("c1")
    assert record is not None
    assert [t["tool"] for t in record.tools] == ["book_appointment", "escalate_to_human"]
    assert record.handover == {"id": "ho_1"} and record.status == "active"
    [summary] = await two.recent(10)
    assert summary["tools"] == 2 and summary["escalated"] and summary["call_id"] == "c1"


async def test_origins_never_reach_each_others_calls(workers: list[CallStore]) -> None:
    one, _ = workers
    await one.create("api-call", "api", view())
    await one.create("vapi-call", "vapi", view())
    assert await one.begin_tool("api-call", "vapi") is None
    assert await one.begin_tool("vapi-call", "api") is None
    admitted = await one.begin_tool("api-call", "api")
    assert admitted is not None and admitted.seq == 1  # the refused ones took no number
    assert await one.exists("api-call", "api") and not await one.exists("api-call", "vapi")
    assert await one.get("vapi-call", "api") is None
    assert await one.get("vapi-call") is not None  # the operator's view reads either


async def test_tool_numbers_never_repeat_when_workers_admit_at_once(
    workers: list[CallStore],
) -> None:
    await workers[0].create("c1", "api", view())
    admitted = await asyncio.gather(*(workers[n % 2].begin_tool("c1") for n in range(40)))
    assert sorted(a.seq for a in admitted if a is not None) == list(range(1, 41))


async def test_an_ended_call_takes_no_tool_but_keeps_its_transcript(
    workers: list[CallStore], clock: ManualClock
) -> None:
    one, two = workers
    await one.create("c1", "api", view())
    clock.advance(2.5)
    assert await two.add_turn("c1", "caller", "hello", None) == 1
    assert await one.mark_ended("c1") and not await two.mark_ended("c1")
    with pytest.raises(CallHasEnded):
        await two.begin_tool("c1")
    assert await two.add_turn("c1", "agent", "goodbye", 4_000.0) == 2
    assert await one.add_turn("nobody", "caller", "hi", None) is None
    record = await one.get("c1")
    assert record is not None and record.status == "ended"
    assert record.transcript == [
        {"speaker": "caller", "text": "hello", "at_ms": 2_500.0},
        {"speaker": "agent", "text": "goodbye", "at_ms": 4_000.0},
    ]
    assert await one.active() == 0 and await one.count() == 1


async def test_turns_from_two_workers_are_all_kept_in_order(workers: list[CallStore]) -> None:
    await workers[0].create("c1", "api", view())
    counts = await asyncio.gather(
        *(workers[n % 2].add_turn("c1", "caller", f"turn {n}", float(n)) for n in range(30))
    )
    assert sorted(c for c in counts if c is not None) == list(range(1, 31))
    transcript, _ = await workers[1].history("c1")
    assert sorted(t["text"] for t in transcript) == sorted(f"turn {n}" for n in range(30))


async def test_a_barge_in_is_counted_where_every_worker_can_see_it(
    workers: list[CallStore],
) -> None:
    one, two = workers
    await one.create("c1", "api", view())
    admitted = await two.begin_tool("c1")
    assert admitted is not None and admitted.barge_ins == 0
    assert await one.barge_in("c1") == 1
    assert await two.barge_ins(["c1", "ghost"]) == {"c1": 1}
    assert await one.barge_in("ghost") is None
