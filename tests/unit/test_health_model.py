"""The one health model, end to end on virtual time: events summed over the window by the
layer (``integration.events.window``), then judged with the mocks' faults by the dashboard
(``app.dashboard.health``). No sockets, no sleeps: every event carries its own stamp and
``now`` is passed in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from app.dashboard.health import HealthModel, build_model, system_states
from integration.events.model import Event
from integration.events.sink import EventSink
from integration.events.window import since_iso, summarise

NOW = 1_800_000_000.0
WRITES = frozenset({"payments.charge", "crm.create_task"})


def at(age_s: float) -> str:
    return datetime.fromtimestamp(NOW - age_s, UTC).isoformat(timespec="milliseconds")


def attempt(system: str, age_s: float, outcome: str = "ok", ms: float = 20.0, **more: Any) -> Event:
    return Event("attempt", at(age_s), system=system, outcome=outcome, latency_ms=ms, **more)


def window(events: list[Event]) -> dict[str, Any]:
    return summarise(events, now=NOW, window_s=30, recent_s=10, write_kinds=WRITES)


def layer(systems: dict[str, Any], **breakers: str) -> dict[str, Any]:
    """``GET /systems/health`` as the layer answers it, from a window summary."""
    out: dict[str, Any] = {}
    for name, sides in systems.items():
        out[name] = {"p95_target_ms": 300.0}
        for side, summary in sides.items():
            out[name][side] = {**summary, "breaker": breakers.get(f"{name}_{side}", "closed")}
    return {"window_s": 30.0, "recent_s": 10.0, "systems": out}


def model(events: list[Event], chaos: dict[str, Any] | None = None, **breakers: str) -> HealthModel:
    return build_model(layer(window(events), **breakers), chaos or {"systems": {}})


# -- the window ------------------------------------------------------------------------------


def test_the_window_counts_failures_and_latency_apart() -> None:
    events = [
        *(attempt("crm", age, ms=250.0) for age in range(1, 21)),  # slow, but answered
        attempt("crm", 2, "timeout", ms=400.0),
        attempt("crm", 6, "timeout", ms=400.0),
        attempt("crm", 3, "breaker_open", ms=0.0),  # refused: a failure, with no latency
        attempt("crm", 4, "cancelled", ms=1.0),  # a hedge's loser: neither
        attempt("crm", 5, "deadline_exceeded", ms=0.0),  # never tried: not the CRM's doing
        attempt("crm", 45, "timeout"),  # before the window
        Event("cache", at(1), system="crm", cache_hit=True),
        attempt("crm", 1, operation="crm.create_task", ms=30.0),  # the write side
    ]
    crm = window(events)["crm"]
    read = crm["read"]
    assert (read["attempts"], read["failed"], read["cached"]) == (23, 3, 1)
    assert read["error_rate"] == pytest.approx(3 / 23, abs=1e-4)
    assert read["outcomes"] == {"breaker_open": 1, "timeout": 2}
    assert (read["p50_ms"], read["p95_ms"]) == (250.0, 400.0)  # 22 answers timed
    assert read["recent"] == {"attempts": 13, "failed": 3, "error_rate": 0.2308, "p95_ms": 400.0}
    assert read["per_s"] == pytest.approx(23 / 30, abs=1e-3)
    assert crm["write"]["attempts"] == 1 and crm["write"]["p50_ms"] == 30.0


def test_a_gateway_carries_every_attempt_that_crossed_it() -> None:
    events = [
        attempt("loans", 1, ms=30.0),
        attempt("erp", 2, "http_502", ms=40.0),
        attempt("loans", 3, operation="payments.charge", ms=50.0),  # a write through it
        attempt("crm", 1),  # reached directly
    ]
    tallies = summarise(
        events,
        now=NOW,
        window_s=30,
        recent_s=10,
        write_kinds=WRITES,
        via={"loans": "middleware", "erp": "middleware"},
    )
    gateway = tallies["middleware"]
    assert (gateway["read"]["attempts"], gateway["read"]["failed"]) == (2, 1)
    assert gateway["write"]["attempts"] == 1
    assert tallies["loans"]["read"]["attempts"] == 1 and tallies["crm"]["read"]["attempts"] == 1
    assert set(tallies) == {"crm", "erp", "loans", "middleware"}


def test_the_sink_hands_over_the_window_of_kinds_asked_for() -> None:
    sink = EventSink.in_memory(maxlen=100)
    for event in (attempt("crm", 40), attempt("crm", 5), Event("lookup", at(1))):
        sink.emit(
            event.kind, **{k: v for k, v in event.as_dict().items() if k not in ("kind", "seq")}
        )
    found = asyncio.run(sink.recent(since_iso(NOW, 30)))
    assert [(e.kind, e.at) for e in found] == [("attempt", at(5))]


# -- the states -------------------------------------------------------------------------------


def test_an_injected_outage_is_down_at_once_even_with_no_traffic() -> None:
    chaos = {"systems": {"payments": {"profile": {}, "down_now": True}}}
    health = build_model({"window_s": 30, "systems": {"payments": {"write": {}}}}, chaos)
    payments = health.of("payments")
    assert (payments.state, payments.reasons, payments.faults) == (
        "down",
        ("outage injected",),
        ("outage",),
    )
    assert system_states(health) == {"payments": "down"}


def test_latency_degrades_through_the_p95_never_as_failure() -> None:
    slow = [attempt("crm", age / 2, ms=350.0) for age in range(1, 21)]
    crm = model(slow).of("crm")
    assert crm.state == "degraded"
    assert crm.reasons == ("p95 350 ms over its 300 ms SLA",)
    assert crm.read is not None and crm.read.error_rate == 0.0


def test_recent_failures_decide_between_degraded_and_down() -> None:
    def with_failures(n: int) -> str:
        events = [attempt("erp", i / 2, "unavailable" if i < n else "ok") for i in range(10)]
        return model(events).of("erp").state

    assert [with_failures(n) for n in (0, 1, 5, 10)] == ["up", "degraded", "down", "down"]
    two = [attempt("erp", 1, "unavailable"), attempt("erp", 2, "unavailable")]
    assert model(two).of("erp").state == "up"  # two attempts say nothing about a rate


def test_a_recovered_system_is_up_before_its_failures_leave_the_window() -> None:
    outage = [attempt("crm", 12 + i / 2, "unavailable") for i in range(30)]
    recovered = [attempt("crm", i / 2) for i in range(1, 16)]
    crm = model(outage + recovered).of("crm")
    assert crm.state == "up" and crm.reasons == ()
    assert crm.read is not None and crm.read.error_rate == pytest.approx(30 / 45, abs=1e-4)
    # ...and the same failures, still going on, are down.
    assert model(outage[:10] + [attempt("crm", 1, "unavailable")] * 5).of("crm").state == "down"


def test_breakers_and_faults_are_reasons_too() -> None:
    events = [attempt("crm", i / 2) for i in range(10)]
    assert model(events, crm_read="open").of("crm").reasons == ("breaker open",)
    assert model(events, crm_read="half_open").of("crm").state == "degraded"
    chaos = {
        "systems": {"crm": {"profile": {"latency": {"kind": "fixed", "ms": 350}}}},
        "system_faults": {"database": [{"kind": "lock", "table": "accounts"}]},
    }
    health = model(events, chaos)
    assert health.of("crm").reasons == ("fault injected: +350 ms",)
    assert health.of("database").state == "degraded"
    assert health.of("database").faults == ("lock",)


def test_no_traffic_is_up_when_the_mocks_say_so_and_unknown_when_nothing_answers() -> None:
    quiet = {"window_s": 30, "systems": {"slack": {"write": {"attempts": 0}}}}
    assert build_model(quiet, {"systems": {}}).of("slack").summary == (
        "up: idle: no traffic from the layer in the last 30 s"
    )
    assert build_model(quiet, None, mocks_error="down").of("slack").state == "unknown"
    unreachable = build_model(None, {"systems": {"crm": {"profile": {}}}}, layer_error="gone")
    assert unreachable.of("crm").reasons == ("the integration layer did not answer",)
    assert unreachable.of("nowhere").state == "unknown"
    known = build_model(quiet, {"systems": {}, "known_systems": ["middleware"]})
    assert system_states(known) == {"middleware": "up", "slack": "up"}
