"""The in-memory event stream and the sink: cursors, gaps, filters, long-polling."""

from __future__ import annotations

import asyncio
from dataclasses import FrozenInstanceError, dataclass

import pytest

from integration.events import Event, EventSink, EventStream, Metrics


@dataclass(frozen=True)
class FakeAttempt:
    """Same attributes as the executor's AttemptRecord."""

    system: str = "crm"
    operation: str = "find_contacts_by_phone"
    call_id: str | None = "call-1"
    attempt: int = 1
    hedge: bool = False
    started_at: float = 0.0
    latency_ms: float = 12.5
    outcome: str = "ok"
    status: int | None = 200
    injected_fault: str | None = None
    breaker_state: str = "closed"
    cache_hit: bool = False


def fill(stream: EventStream, n: int, **fields: object) -> None:
    for i in range(n):
        stream.publish(Event.now("call", detail={"i": i}, **fields))


def test_publish_numbers_events_from_one_and_keeps_them_immutable() -> None:
    stream = EventStream(10)
    first = stream.publish(Event.now("call"))
    second = stream.publish(Event.now("call"))
    assert (first.seq, second.seq, stream.last_seq, stream.oldest_seq) == (1, 2, 2, 1)
    with pytest.raises(FrozenInstanceError):
        first.seq = 7  # type: ignore[misc]


def test_republishing_a_published_event_copies_it() -> None:
    stream = EventStream(10)
    first = stream.publish(Event.now("call"))
    again = stream.publish(first)
    assert (first.seq, again.seq) == (1, 2)


def test_since_pages_by_cursor() -> None:
    stream = EventStream(100)
    fill(stream, 25)
    page, cursor = stream.since(0, 10)
    assert [e.seq for e in page] == list(range(1, 11)) and cursor == 10
    page, cursor = stream.since(cursor, 10)
    assert [e.seq for e in page] == list(range(11, 21)) and cursor == 20
    page, cursor = stream.since(cursor, 10)
    assert [e.seq for e in page] == list(range(21, 26)) and cursor == 25
    assert stream.since(cursor, 10) == ([], 25)


def test_a_cursor_that_fell_out_of_the_ring_is_flagged_and_resumes_at_the_oldest() -> None:
    stream = EventStream(100)
    fill(stream, 250)
    assert stream.oldest_seq == 151 and len(stream) == 100
    assert stream.gap(0) and stream.gap(149)
    assert not stream.gap(150) and not stream.gap(250)
    page, cursor = stream.since(10, 5)
    assert [e.seq for e in page] == [151, 152, 153, 154, 155] and cursor == 155


def test_no_gap_on_an_empty_stream() -> None:
    stream = EventStream(100)
    assert stream.oldest_seq == 1 and not stream.gap(0)
    assert stream.since(0, 10) == ([], 0)


def test_a_cursor_from_the_future_is_pulled_back() -> None:
    stream = EventStream(100)
    fill(stream, 3)
    assert stream.since(99, 10) == ([], 3)


def test_filters_by_call_and_kind_and_skip_what_was_looked_at() -> None:
    stream = EventStream(100)
    for i in range(30):
        stream.publish(Event.now("attempt" if i % 2 else "tool", call_id=f"c{i % 3}"))
    page, cursor = stream.since(0, 100, call_id="c1")
    assert [e.seq for e in page] == list(range(2, 31, 3)) and cursor == 30
    page, cursor = stream.since(0, 100, call_id="c1", kind="tool")
    assert all(e.call_id == "c1" and e.kind == "tool" for e in page)
    assert [e.seq for e in page] == [5, 11, 17, 23, 29]
    page, cursor = stream.since(0, 2, kind="attempt")
    assert [e.seq for e in page] == [2, 4] and cursor == 4
    assert stream.since(0, 100, call_id="nobody") == ([], 30)


def test_advance_to_continues_numbering_after_a_restart() -> None:
    stream = EventStream(10)
    stream.advance_to(41)
    assert stream.publish(Event.now("call")).seq == 42
    assert not stream.gap(41)


async def test_wait_for_wakes_on_publish() -> None:
    stream = EventStream(10)
    waiter = asyncio.create_task(stream.wait_for(0, timeout_s=5))
    await asyncio.sleep(0)
    assert not waiter.done()
    stream.publish(Event.now("call"))
    assert await asyncio.wait_for(waiter, 1) is True


async def test_wait_for_wakes_every_reader() -> None:
    stream = EventStream(10)
    waiters = [asyncio.create_task(stream.wait_for(0, timeout_s=5)) for _ in range(3)]
    await asyncio.sleep(0)
    stream.publish(Event.now("call"))
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True, True]


async def test_wait_for_returns_at_once_when_events_are_there_and_times_out_otherwise() -> None:
    stream = EventStream(10)
    fill(stream, 2)
    assert await stream.wait_for(1, timeout_s=5) is True
    assert await stream.wait_for(2, timeout_s=0.02) is False
    assert await stream.wait_for(2, timeout_s=0) is False


def test_event_from_attempt_copies_the_record() -> None:
    event = Event.from_attempt(FakeAttempt(outcome="timeout", status=None, hedge=True))
    assert event.kind == "attempt" and event.seq == 0 and event.at.endswith("+00:00")
    assert (event.system, event.operation, event.call_id) == (
        "crm",
        "find_contacts_by_phone",
        "call-1",
    )
    assert (event.outcome, event.hedge, event.latency_ms, event.breaker_state) == (
        "timeout",
        True,
        12.5,
        "closed",
    )
    assert event.as_dict()["outcome"] == "timeout"


def test_sink_publishes_counts_and_emits() -> None:
    sink = EventSink(EventStream(100), Metrics())
    sink.record_attempt(FakeAttempt())
    tool = sink.emit("tool", call_id="call-1", operation="book", detail={"slot": "09:00"})
    assert tool.seq == 2
    page, _ = sink.stream.since(0, 10, call_id="call-1")
    assert [(e.seq, e.kind) for e in page] == [(1, "attempt"), (2, "tool")]
    body, _ = sink.metrics.render()
    assert b'switchboard_source_attempts_total{operation="find_contacts_by_phone"' in body


def test_sink_records_a_cache_hit_as_an_event_and_a_count() -> None:
    sink = EventSink.in_memory()
    event = sink.record_cache_hit("erp", "invoices", call_id="c", age_s=3.5, reason="timeout")
    assert (event.kind, event.cache_hit, event.detail) == (
        "cache",
        True,
        {"age_s": 3.5, "because": "timeout"},
    )
    assert b'switchboard_cache_hits_total{system="erp"} 1.0' in sink.metrics.render()[0]
