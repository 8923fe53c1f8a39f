"""The durable event store on a real SQLite file: background batches, flush on close, history."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

from integration.events import Event, EventSink, EventStore, EventStream, Metrics
from tests.unit.test_events import FakeAttempt


def rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("select count(*) from events").fetchone()[0])


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


async def test_the_writer_flushes_batches_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "state" / "events.db"  # the folder does not exist yet
    store = EventStore(f"sqlite:///{path}", flush_interval_s=0.02, batch_size=100)
    sink = EventSink(EventStream(1_000), Metrics(), store)
    await sink.start()
    try:
        for _ in range(10):
            sink.record_attempt(FakeAttempt())
        await wait_until(lambda: store.written == 10)
        assert rows(path) == 10
    finally:
        await sink.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


async def test_a_full_batch_wakes_the_writer_before_its_interval(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'e.db'}", flush_interval_s=60, batch_size=50)
    stream = EventStream(100)
    await store.start()
    try:
        for _ in range(50):
            store.enqueue(stream.publish(Event.now("call")))
        await wait_until(lambda: store.written == 50)
    finally:
        await store.aclose()


async def test_close_writes_everything_and_a_second_store_reads_it_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    # A long interval: only full batches and the close itself may write.
    sink = EventSink(EventStream(1_000), Metrics(), EventStore(url, flush_interval_s=60))
    await sink.start()
    for i in range(10_000):
        if i % 1_000 == 0:
            await asyncio.sleep(0)  # let the writer take full batches while we publish
        if i % 4 == 0:
            sink.emit("tool", call_id=f"call-{i % 3}", operation="book", detail={"i": i})
        else:
            sink.record_attempt(FakeAttempt(call_id=f"call-{i % 3}", attempt=i))
    await sink.aclose()
    assert rows(tmp_path / "events.db") == 10_000

    reader = EventStore(url)
    await reader.start()
    try:
        assert reader.last_seq == 10_000
        first, cursor = await reader.query(0, 3)
        assert [e.seq for e in first] == [1, 2, 3] and cursor == 3
        assert first[0].kind == "tool" and first[0].detail == {"i": 0}
        assert first[1].kind == "attempt" and first[1].latency_ms == 12.5
        assert first[1].breaker_state == "closed" and first[1].hedge is False

        mine, cursor = await reader.query(0, 10_000, call_id="call-1")
        assert len(mine) == 3_333 and {e.call_id for e in mine} == {"call-1"}
        assert [e.seq for e in mine] == sorted(e.seq for e in mine) and cursor == mine[-1].seq
        tools, _ = await reader.query(9_000, 10_000, kind="tool")
        assert len(tools) == 250
        assert await reader.query(10_000, 10) == ([], 10_000)
    finally:
        await reader.aclose()


async def test_a_restarted_sink_numbers_after_what_is_on_disk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    for _ in range(2):
        sink = EventSink(EventStream(100), Metrics(), EventStore(url))
        await sink.start()
        for _ in range(5):
            sink.emit("call", call_id="c")
        await sink.aclose()
    store = EventStore(url)
    await store.start()
    try:
        events, _ = await store.query(0, 100)
        assert [e.seq for e in events] == list(range(1, 11))
    finally:
        await store.aclose()


async def test_query_sees_events_not_yet_flushed(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'events.db'}", flush_interval_s=60)
    stream = EventStream(100)
    await store.start()
    try:
        store.enqueue(stream.publish(Event.now("outbox", call_id="c9", outcome="delivered")))
        events, _ = await store.query(0, 10, call_id="c9")
        assert [(e.kind, e.outcome) for e in events] == [("outbox", "delivered")]
    finally:
        await store.aclose()


async def test_an_in_memory_url_works_for_throwaway_builds() -> None:
    store = EventStore("sqlite://")
    await store.start()
    try:
        store.enqueue(EventStream(10).publish(Event.now("call")))
        events, _ = await store.query(0, 10)
        assert len(events) == 1
    finally:
        await store.aclose()


async def test_the_store_sheds_new_events_past_its_limit_instead_of_growing(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'e.db'}", max_pending=5, flush_interval_s=60)
    stream = EventStream(100)
    for _ in range(8):  # not started: nothing drains the queue
        store.enqueue(stream.publish(Event.now("call")))
    assert store.stats()["pending"] == 5 and store.dropped == 3
