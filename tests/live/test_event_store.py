"""The durable event store on SQLite and PostgreSQL: background batches, flush on close,
history, and a cursor that never steps past an event when several workers write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from integration.events import Event, EventSink, EventStore, EventStream, Metrics
from integration.store.database import Database
from tests._support.stores import count, scalar
from tests.unit.test_events import FakeAttempt


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


@asynccontextmanager
async def opened(url: str, **options: float) -> AsyncIterator[EventStore]:
    db = Database(url)
    store = EventStore(db, **options)  # type: ignore[arg-type]
    await store.start()
    try:
        yield store
    finally:
        await store.aclose()
        await db.aclose()


async def test_the_writer_flushes_batches_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "state" / "events.db"  # the folder does not exist yet
    url = f"sqlite:///{path}"
    db = Database(url)
    store = EventStore(db, flush_interval_s=0.02, batch_size=100)
    sink = EventSink(EventStream(1_000), Metrics(), store)
    await sink.start()
    try:
        for _ in range(10):
            sink.record_attempt(FakeAttempt())
        await wait_until(lambda: store.written == 10)
        assert count(url, "layer_events") == 10
    finally:
        await sink.aclose()
        await db.aclose()
    assert scalar(url, "pragma journal_mode") == "wal"


async def test_a_full_batch_wakes_the_writer_before_its_interval(store_url: str) -> None:
    stream = EventStream(100)
    async with opened(store_url, flush_interval_s=60, batch_size=50) as store:
        for _ in range(50):
            store.enqueue(stream.publish(Event.now("call")))
        await wait_until(lambda: store.written == 50)


async def test_close_writes_everything_and_a_second_store_reads_it_back(store_url: str) -> None:
    db = Database(store_url)
    # A long interval: only full batches and the close itself may write.
    sink = EventSink(EventStream(1_000), Metrics(), EventStore(db, flush_interval_s=60))
    await sink.start()
    for i in range(10_000):
        if i % 1_000 == 0:
            await asyncio.sleep(0)  # let the writer take full batches while we publish
        if i % 4 == 0:
            sink.emit("tool", call_id=f"call-{i % 3}", operation="book", detail={"i": i})
        else:
            sink.record_attempt(FakeAttempt(call_id=f"call-{i % 3}", attempt=i))
    await sink.aclose()
    await db.aclose()
    assert count(store_url, "layer_events") == 10_000

    async with opened(store_url) as reader:
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


async def test_a_restarted_sink_numbers_after_what_is_on_disk(store_url: str) -> None:
    for _ in range(2):
        db = Database(store_url)
        sink = EventSink(EventStream(100), Metrics(), EventStore(db))
        await sink.start()
        for _ in range(5):
            sink.emit("call", call_id="c")
        await sink.aclose()
        await db.aclose()
    async with opened(store_url) as store:
        events, _ = await store.query(0, 100)
        assert [e.seq for e in events] == list(range(1, 11))


async def test_query_sees_this_workers_events_not_yet_flushed(store_url: str) -> None:
    stream = EventStream(100)
    async with opened(store_url, flush_interval_s=60) as store:
        store.enqueue(stream.publish(Event.now("outbox", call_id="c9", outcome="delivered")))
        events, _ = await store.query(0, 10, call_id="c9")
        assert [(e.kind, e.outcome) for e in events] == [("outbox", "delivered")]


async def test_a_reader_paging_while_two_workers_write_sees_every_event_once(
    store_url: str,
) -> None:
    """Each worker writes its own batches; a reader walking the cursor meanwhile must end
    with every event, none twice, none skipped (ids are handed out in commit order)."""
    stream = EventStream(10_000)
    seen: list[int] = []

    async def write(store: EventStore, worker: str) -> None:
        for n in range(600):
            store.enqueue(stream.publish(Event.now("call", call_id=f"{worker}-{n}")))
            if n % 10 == 0:
                await asyncio.sleep(0.001)
        await store.flush()

    async def read(reader: EventStore) -> None:
        cursor = 0
        while len(seen) < 1_200:
            found, cursor = await reader.query(cursor, 50)
            seen.extend(e.seq for e in found)
            await asyncio.sleep(0)

    async with (
        opened(store_url, flush_interval_s=0.001, batch_size=7) as first,
        opened(store_url, flush_interval_s=0.001, batch_size=5) as second,
        opened(store_url, flush_interval_s=60) as reader,
    ):
        work = asyncio.gather(write(first, "a"), write(second, "b"), read(reader))
        await asyncio.wait_for(work, 30)
    assert len(seen) == len(set(seen)) == 1_200
    assert seen == sorted(seen)


async def test_an_in_memory_url_works_for_throwaway_builds() -> None:
    async with opened("sqlite://") as store:
        store.enqueue(EventStream(10).publish(Event.now("call")))
        events, _ = await store.query(0, 10)
        assert len(events) == 1


async def test_the_store_sheds_new_events_past_its_limit_instead_of_growing(tmp_path: Path) -> None:
    store = EventStore(
        Database(f"sqlite:///{tmp_path / 'e.db'}"), max_pending=5, flush_interval_s=60
    )
    stream = EventStream(100)
    for _ in range(8):  # not started: nothing drains the queue
        store.enqueue(stream.publish(Event.now("call")))
    assert store.stats()["pending"] == 5 and store.dropped == 3
