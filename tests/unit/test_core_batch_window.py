"""The legacy core's batch window on injected clocks: the nightly schedule (wrapping past
midnight too), a forced window and its end, and the scenario action that opens one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.scenarios.model import TimelineEvent
from mocks.core.batch import BatchWindow, parse_schedule


class Clocks:
    def __init__(self, wall: datetime) -> None:
        self.wall = wall
        self.mono = 100.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


def window(schedule: str, at: str) -> tuple[BatchWindow, Clocks]:
    clocks = Clocks(datetime.fromisoformat(at).replace(tzinfo=UTC))
    return (
        BatchWindow(parse_schedule(schedule), clock=lambda: clocks.mono, now=lambda: clocks.wall),
        clocks,
    )


def test_the_nightly_window_opens_and_closes_on_the_wall_clock() -> None:
    batch, clocks = window("02:00-02:30", "2031-03-04T01:59:59")
    assert batch.closed() is None
    clocks.advance(1)
    closed = batch.closed()
    assert closed is not None and closed.retry_after_s == 1800 and not closed.forced
    assert closed.ends_at == datetime(2031, 3, 4, 2, 30, tzinfo=UTC)
    clocks.advance(1800)
    assert batch.closed() is None


def test_a_window_may_wrap_past_midnight() -> None:
    batch, clocks = window("23:30-00:15", "2031-03-04T23:29:00")
    assert batch.closed() is None
    clocks.advance(120)
    assert (closed := batch.closed()) is not None and closed.retry_after_s == 44 * 60
    clocks.advance(40 * 60)  # 00:11 the next day
    assert (closed := batch.closed()) is not None and closed.retry_after_s == 4 * 60
    clocks.advance(4 * 60)
    assert batch.closed() is None


def test_a_forced_window_lasts_its_seconds_and_can_be_ended() -> None:
    batch, clocks = window("", "2031-03-04T12:00:00")
    assert batch.closed() is None
    batch.force(60)
    batch.refuse()
    closed = batch.closed()
    assert closed is not None and closed.forced and closed.retry_after_s == 60
    assert batch.describe()["refused"] == 1
    clocks.advance(59.5)
    assert batch.closed() is not None
    clocks.advance(1)
    assert batch.closed() is None
    batch.force(60)
    assert batch.end_forced() and batch.closed() is None


@pytest.mark.parametrize("text", ["24:00-01:00", "02:00", "2:00-3:00", "02:00-02:00", "x"])
def test_a_bad_schedule_is_refused_without_repeating_it(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_schedule(text)
    said = str(refused.value)
    assert "HH:MM" in said or "differ" in said
    assert text not in said.replace("HH:MM-HH:MM", "")


def test_the_scenario_action_belongs_to_the_core_and_needs_seconds() -> None:
    event = TimelineEvent(at=5, system="core", action="batch_window", seconds=40)
    assert event.ends_at == 45
    with pytest.raises(ValidationError, match="applies to core"):
        TimelineEvent(at=5, system="crm", action="batch_window", seconds=40)
    with pytest.raises(ValidationError, match="needs 'seconds'"):
        TimelineEvent(at=5, system="core", action="batch_window")
