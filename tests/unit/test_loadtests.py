"""The load tests' pure parts: journeys as steps, load shapes, thresholds over Locust's CSV,
the benchmark's verdict on a phase, and the hot path's top entries."""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from loadtests.bench.hot_path import top_entries
from loadtests.bench.report import shortfalls, sustained
from loadtests.journeys.calls import END, JOURNEYS, LOOKUP, Caller, Reply, call_journey, problem
from loadtests.journeys.runner import expected_calls, parse_duration
from loadtests.journeys.shape_curves import PROFILES
from loadtests.journeys.thresholds import Thresholds, evaluate, load_thresholds, read_stats

TOOLS = frozenset(t for kind in JOURNEYS for t in kind.tools)


def walk(kind_name: str, lookup_status: int = 201) -> list[str]:
    kind = next(k for k in JOURNEYS if k.name == kind_name)
    journey = call_journey(kind, Caller("+12154861799"), "c-1", random.Random(1), TOOLS)
    names, step = [], next(journey)
    try:
        while True:
            names.append(step.name)
            status = lookup_status if step.kind == "lookup" else 200
            step = journey.send(Reply(status, {"view": {}}))
    except StopIteration:
        return names


def test_a_journey_is_lookup_tools_then_end() -> None:
    assert walk("book_appointment") == [
        LOOKUP,
        "POST /calls/{id}/tools/check_eligibility",
        "POST /calls/{id}/tools/book_appointment",
        "POST /calls/{id}/tools/send_confirmation",
        END,
    ]
    assert all(1 <= len(kind.tools) <= 3 for kind in JOURNEYS)


def test_a_failed_lookup_ends_the_journey_there() -> None:
    assert walk("eligibility", lookup_status=503) == [LOOKUP]


def test_a_tool_the_service_lacks_is_an_error_not_a_skip() -> None:
    journey = call_journey(JOURNEYS[0], Caller("+1"), "c", random.Random(1), frozenset())
    next(journey)
    with pytest.raises(LookupError, match="check_eligibility"):
        journey.send(Reply(201, {"view": {}}))


def test_problem_reads_the_contract() -> None:
    kind = JOURNEYS[0]
    journey = call_journey(kind, Caller("+1"), "c", random.Random(1), TOOLS)
    lookup = next(journey)
    tool = journey.send(Reply(201, {"view": {}}))
    assert problem(lookup, Reply(201, {"view": {}})) is None
    assert problem(lookup, Reply(500, None)) == f"{LOOKUP}: HTTP 500"
    assert problem(tool, Reply(200, {"status": "failed", "say": "Sorry."})) is None
    assert "not a ToolResult" in str(problem(tool, Reply(200, {"status": "maybe"})))


def test_shapes_follow_users_and_run_time() -> None:
    options = SimpleNamespace(spike_factor=3.0)
    assert PROFILES["steady"](0.0, 10, 100.0, options) == 10
    assert PROFILES["ramp"](40.0, 10, 100.0, options) == 5
    assert PROFILES["ramp"](90.0, 10, 100.0, options) == 10
    assert [PROFILES["spike"](t, 10, 100.0, options) for t in (10, 50, 70)] == [10, 30, 10]
    assert PROFILES["soak"](5.0, 10, 3600.0, options) == 1  # a five-minute climb
    assert PROFILES["soak"](600.0, 10, 3600.0, options) == 10


def test_expected_calls_integrate_the_shape() -> None:
    assert expected_calls("steady", 3600, 4, 60) == pytest.approx(60, rel=0.01)
    assert expected_calls("ramp", 3600, 100, 100) == pytest.approx(60, rel=0.03)
    assert expected_calls("spike", 3600, 10, 100) == pytest.approx(140, rel=0.02)


def test_durations() -> None:
    assert [parse_duration(t) for t in ("30", "30s", "5m", "1h30m")] == [30, 30, 300, 5400]
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")


def stats_csv(tmp_path: Path, rows: list[tuple[str, int, int, int]]) -> Path:
    head = "Type,Name,Request Count,Failure Count,Requests/s,50%,95%,99%"
    lines = [head] + [f"POST,{n},{r},{f},1.0,{p // 2},{p},{p}" for n, r, f, p in rows]
    total_r, total_f = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(f",Aggregated,{total_r},{total_f},1.0,10,100,100")
    path = tmp_path / "locust_stats.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_thresholds_pass_and_fail_by_name(tmp_path: Path) -> None:
    steps = read_stats(
        stats_csv(
            tmp_path,
            [
                (LOOKUP, 100, 0, 180),
                ("POST /calls/{id}/tools/take_payment", 20, 1, 900),
            ],
        )
    )
    loose = Thresholds(max_failure_ratio=0.01, p95_ms={LOOKUP: 200, "*/tools/*": 1000})
    assert all(v.passed for v in evaluate(steps, loose))
    strict = loose.overridden(max_failure_ratio=0.0, p95_ms={"*/tools/*": 500, END: 100})
    missed = [v.what for v in evaluate(steps, strict) if not v.passed]
    assert missed == [
        "failure ratio 0.0083 (1 of 120) <= 0",
        "p95 POST /calls/{id}/tools/take_payment 900 ms <= 500 ms",
        f"p95 {END}: no such step in the run",
    ]
    assert not evaluate(steps, loose.overridden(min_calls_ratio=0.9), calls_expected=200)[-1].passed


def test_the_shipped_thresholds_load_and_a_bad_file_names_its_field(tmp_path: Path) -> None:
    from loadtests.journeys.thresholds import DEFAULT_THRESHOLDS

    assert load_thresholds(DEFAULT_THRESHOLDS).p95_ms[LOOKUP] > 0
    bad = tmp_path / "t.yaml"
    bad.write_text("max_failure_ratio: 2\n")
    with pytest.raises(ValueError, match="max_failure_ratio"):
        load_thresholds(bad)


def phase(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "100/s",
        "offered_per_s": 100.0,
        "started": 1000,
        "finished": 1000,
        "failed_calls": 0,
        "errors": {},
        "started_per_s": 99.0,
        "late_starts": 0,
        "lookups_within_deadline": {"within": 1000, "of": 1000},
    }
    return {**base, **changes}


def test_a_phase_holds_only_with_no_errors_on_pace_and_on_time() -> None:
    assert shortfalls(phase()) == []
    assert shortfalls(phase(failed_calls=1)) == ["1 calls failed"]
    assert shortfalls(phase(lookups_within_deadline={"within": 999, "of": 1000})) == [
        "1 lookups past deadline + slack"
    ]
    slower, faster = phase(name="50/s", offered_per_s=50.0), phase(finished=990)
    assert sustained([slower, faster]) is slower
    assert sustained([phase(late_starts=20)]) is None  # the generator, not the service, lagged


def test_top_entries_count_own_and_total_time() -> None:
    frames = [
        {"name": "main", "file": "a.py"},
        {"name": "work", "file": "b.py"},
        {"name": "sql", "file": "c.py"},
    ]
    profile = {"samples": [[0, 1], [0, 1, 2], [0, 2]], "weights": [2, 1, 1]}
    top = top_entries({"shared": {"frames": frames}, "profiles": [profile]})
    assert [(e.function, e.own_pct, e.total_pct) for e in top] == [
        ("work (b.py)", 50.0, 75.0),
        ("sql (c.py)", 50.0, 50.0),
    ]
