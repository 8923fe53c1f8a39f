"""The Scorecards page's tables and the System map's layout, as pure functions.

The scorecard is the JSON ``app/scenarios/scorecard.py`` writes; the map is the shipped
``integration/config/system_map.yaml`` (what ``GET /system-map`` serves), and the same map
with a legacy SOAP core and a middleware gateway that some steps go through.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.dashboard.scorecard_view import (
    calls_rows,
    expectation_rows,
    fault_bars,
    run_header,
    show,
    timeline_rows,
    writes_rows,
)
from app.dashboard.sysmap import WIDTH, MapDrawing, layout_map, middleware_of

MAP_FILE = Path(__file__).resolve().parents[2] / "integration" / "config" / "system_map.yaml"

CARD: dict[str, Any] = {
    "calls_total": 250,
    "ok": 200,
    "degraded": 27,
    "escalated": 12,
    "failed": 11,
    "ok_ratio": 0.8,
    "degraded_ratio": 0.108,
    "escalated_ratio": 0.048,
    "failed_ratio": 0.0448,
    "lookup_p95_ms": 231.7,
    "writes_acknowledged": 120,
    "writes_applied": 118,
    "writes_dead": 2,
    "writes_lost": 0,
    "duplicates": 0,
    "drain_s": 3.4,
    "drained": True,
    "passed": False,
    "scenario": "payment_gateway_down",
    "description": "The payment gateway goes down at 0:30 for two minutes.",
    "speed": 1.0,
    "seed": 7,
    "duration_s": 180.0,
    "expectations": [
        {"expectation": "failed_ratio <= 0.02", "actual": 0.0448, "passed": False},
        {"expectation": "writes_lost == 0", "actual": 0, "passed": True},
        {"expectation": "lookup_p95_ms <= 800", "actual": 231.7, "passed": True},
    ],
    "timeline": [
        {
            "at_s": 30.0,
            "system": "payments",
            "action": "outage",
            "note": "payment gateway down",
            "done": "payments: down for 120 s",
            "applied": True,
            "until_s": 150.0,
            "calls": 160,
            "calls_ok": 120,
            "calls_degraded": 30,
            "calls_escalated": 6,
            "calls_failed": 4,
            "filler": 3,
            "heard": "I've taken the details securely",
        },
        {
            "at_s": 150.0,
            "system": "payments",
            "action": "clear",
            "note": "",
            "done": "payments: cleared",
            "applied": True,
            "until_s": 180.0,
            "calls": 0,
        },
    ],
    "writes_by_system": [
        {"system": "payments", "acknowledged": 60, "applied": 58, "dead": 2, "pending": 0},
    ],
    "dead_reasons": {"max_attempts": 2},
}
RESULT = {"name": "payment_gateway_down", "started_at": "2026-12-06T23:10:02+00:00"}


def test_an_expectation_reads_expected_observed_unit_and_verdict() -> None:
    rows = expectation_rows(CARD)
    assert rows[0] == {
        "expectation": "Calls failed",
        "expected": "≤ 2%",
        "observed": "4.5%",
        "unit": "% of calls",
        "verdict": "fail",
    }
    assert rows[1]["expected"] == "= 0" and rows[1]["unit"] == "writes"
    assert rows[2]["observed"] == "232 ms" and rows[2]["verdict"] == "pass"
    assert [r["verdict"] for r in rows] == ["fail", "pass", "pass"]


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("failed_ratio", 0.0448, "4.5%"),
        ("escalated_ratio", 0.3, "30%"),
        ("ok_ratio", 1.0, "100%"),
        ("ok_ratio", 0.0, "0%"),
        ("failed_ratio", 0.0004, "<0.1%"),
        ("some_new_share", 0.125, "12.5%"),
        ("lookup_p95_ms", 4.25, "4.2 ms"),
        ("calls_total", 1234, "1,234"),
        ("drain_s", 3.44, "3.4 s"),
        ("writes_lost", None, "—"),
    ],
)
def test_each_value_is_shown_in_its_unit(name: str, value: Any, shown: str) -> None:
    assert show(name, value) == shown


def test_the_header_says_the_verdict_and_how_many_expectations_held() -> None:
    head = run_header({**RESULT, "passed": False, "scorecard": CARD})
    assert (head.verdict, head.summary) == ("FAILED", "2 of 3 expectations met")
    assert head.started == "2026-12-06 23:10:02"
    assert head.facts == "180 s of traffic · seed 7 · 250 calls"
    older = run_header({"name": "x", "passed": True, "scorecard": {}})
    assert older.summary == "no expectations written" and older.verdict == "PASSED"


def test_the_timeline_tells_faults_and_outcomes_in_order() -> None:
    rows = timeline_rows(CARD)
    assert [r["at"] for r in rows] == ["0:00", "0:30", "2:30", "3:00", "3:03"]
    assert rows[1]["what"] == "payments: down for 120 s (payment gateway down)"
    assert rows[1]["outcome"].startswith("until 2:30 · 160 calls: 120 ok (75%), 30 degraded")
    assert 'callers heard "I\'ve taken the details securely"' in rows[1]["outcome"]
    assert rows[3] == {
        "at": "3:00",
        "what": "traffic ends",
        "outcome": "250 calls: 200 ok, 27 degraded, 12 escalated, 11 failed",
    }
    assert rows[4]["what"] == "outbox drained"
    assert rows[4]["outcome"].startswith("118 of 120 writes applied, 2 dead, 0 lost")
    assert fault_bars(CARD) == [
        {
            "system": "payments",
            "start_s": 30.0,
            "end_s": 150.0,
            "what": "payment gateway down",
            "action": "outage",
            "calls": 160,
        }
    ]


def test_no_cell_is_a_raw_dict_or_a_raw_fraction() -> None:
    tables = [expectation_rows(CARD), timeline_rows(CARD), calls_rows(CARD), writes_rows(CARD)]
    cells = [str(v) for table in tables for row in table for v in row.values()]
    assert not [c for c in cells if "{" in c or re.search(r"\b0\.\d{3,}", c)], cells
    assert calls_rows(CARD)[3] == {"outcome": "Calls failed", "calls": "11", "share": "4.5%"}
    assert writes_rows(CARD)[0]["lost"] == 0  # a missing count reads as none


def test_an_older_scorecard_with_few_fields_still_reads() -> None:
    card = {"calls_total": 40, "expectations": [{"expectation": "odd", "passed": False}]}
    assert expectation_rows(card)[0]["verdict"] == "fail"
    assert timeline_rows(card) == [] and writes_rows(card) == [] and fault_bars(card) == []


# -- the system map --------------------------------------------------------------------------


def shipped_map() -> dict[str, Any]:
    return dict(yaml.safe_load(MAP_FILE.read_text(encoding="utf-8")))


def direct_map() -> dict[str, Any]:
    """The shipped map with every step direct and no middleware system."""
    the_map = copy.deepcopy(shipped_map())
    for name in [n for n, e in the_map["systems"].items() if e["kind"] == "middleware"]:
        del the_map["systems"][name]
    for flow in the_map["flows"].values():
        for step in flow["steps"]:
            step.update(path="direct", gateway=None)
    return the_map


def with_middleware() -> dict[str, Any]:
    """The map plus a SOAP core and a middleware gateway some steps go through."""
    the_map = direct_map()
    the_map["systems"]["gateway"] = {"kind": "ipaas", "vendor": "iPaaS", "owner": "data"}
    the_map["systems"]["core"] = {"kind": "legacy_core_soap", "vendor": "SOAP", "owner": "risk"}
    lookup = the_map["flows"]["caller_lookup"]["steps"]
    lookup.append({"name": "policy", "system": "core", "mode": "read", "path": "middleware"})
    lookup.append(
        {"name": "named", "system": "erp", "mode": "read", "path": "x", "gateway": "gateway"}
    )
    booking = the_map["flows"]["booking"]["steps"]
    booking[2] = {**booking[2], "path": "middleware"}  # the CRM task goes through it
    return the_map


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def check_drawing(drawing: MapDrawing) -> None:
    assert drawing.width == WIDTH
    for box in drawing.boxes:
        assert box.x >= 0 and box.x + box.w <= WIDTH, box.key
        assert box.y >= 0 and box.y + box.h <= drawing.height, box.key
    rects = [(b.x, b.y, b.w, b.h) for b in drawing.boxes]
    assert not [(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :] if overlaps(a, b)]
    labels = [e.label_box for e in drawing.edges if e.mode != "call"]
    assert all(e.label for e in drawing.edges), "every edge has its label"
    assert not [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :] if overlaps(a, b)]
    assert not [(t, r) for t in labels for r in rects if overlaps(t, r)], "labels clear boxes"
    svg = drawing.svg()
    assert svg.count('<g class="edge"') == svg.count('class="edge-label"') == len(drawing.edges)
    assert re.search(r'viewBox="0 0 820 \d+"', svg)
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    assert min(sizes) >= 12


def test_the_shipped_map_is_laid_out_in_layers_with_one_label_per_edge() -> None:
    the_map = shipped_map()
    drawing = layout_map(the_map)
    check_drawing(drawing)
    by_key = {b.key: b for b in drawing.boxes}
    x = {k.split(":")[0]: b.x for k, b in by_key.items()}
    assert x["callers"] < x["flow"] < x["sys"]
    drawn = {k.split(":", 1)[1] for k in by_key if k.startswith(("sys:", "mw:"))}
    assert drawn == set(the_map["systems"]), "every system, once"
    pairs = [(e.source, e.target, e.mode) for e in drawing.edges]
    assert len(pairs) == len(set(pairs)), "one edge per pair and mode"
    booking = {(e.target, e.label) for e in drawing.edges if e.source == "flow:booking"}
    assert booking == {
        ("sys:calendar", "free busy"),
        ("sys:calendar", "event"),
        ("sys:crm", "task"),
        ("sys:messaging", "confirmation"),
    }


def test_steps_through_middleware_are_drawn_through_its_column() -> None:
    the_map = with_middleware()
    steps = the_map["flows"]["caller_lookup"]["steps"]
    assert middleware_of(steps[-1], the_map["systems"]) == "gateway"
    assert middleware_of(steps[0], the_map["systems"]) is None
    drawing = layout_map(the_map)
    check_drawing(drawing)
    by_key = {b.key: b for b in drawing.boxes}
    assert "mw:gateway" in by_key and "sys:gateway" not in by_key
    assert by_key["flow:booking"].x < by_key["mw:gateway"].x < by_key["sys:core"].x
    pairs = {(e.source, e.target, e.label) for e in drawing.edges}
    assert {
        ("flow:caller_lookup", "mw:gateway", "policy, named"),  # one label, both steps
        ("mw:gateway", "sys:core", "policy"),
        ("flow:booking", "mw:gateway", "task"),
        ("mw:gateway", "sys:crm", "task"),
    } <= pairs
    assert ("flow:booking", "sys:crm", "task") not in pairs
    assert ("mw:gateway", "sys:erp", "named") in pairs  # a step may name its gateway


def test_a_middleware_the_map_does_not_describe_is_still_a_hop() -> None:
    the_map = direct_map()
    the_map["flows"]["payment"]["steps"][0]["path"] = "esb"
    drawing = layout_map(the_map)
    check_drawing(drawing)
    assert {"mw:esb"} == {b.key for b in drawing.boxes if b.key.startswith("mw:")}


def test_a_blast_radius_paints_what_it_hits_and_fades_the_rest() -> None:
    blast = {
        "system": "payments",
        "condition": "down",
        "flows": [
            {
                "flow": "payment",
                "verdict": "delayed",
                "steps": [
                    {"step": "charge", "system": "payments", "verdict": "delayed", "why": "q"},
                    {"step": "receipt", "system": "messaging", "verdict": "delayed", "why": "w"},
                ],
            },
            {"flow": "booking", "verdict": "unaffected", "steps": []},
        ],
    }
    drawing = layout_map(shipped_map(), blast, "payments")
    check_drawing(drawing)
    boxes = {b.key: b for b in drawing.boxes}
    assert boxes["sys:payments"].bold and not boxes["sys:payments"].faded
    assert boxes["flow:booking"].faded and not boxes["flow:payment"].faded
    hit = {(e.source, e.target) for e in drawing.edges if e.verdict}
    assert hit == {("flow:payment", "sys:payments"), ("flow:payment", "sys:messaging")}
    assert all(e.faded for e in drawing.edges if e.mode != "call" and not e.verdict)


def test_live_states_colour_the_systems_and_say_their_word() -> None:
    drawing = layout_map(shipped_map(), states={"payments": "down", "crm": "up"})
    boxes = {b.key: b for b in drawing.boxes}
    assert boxes["sys:payments"].badge == "down" and boxes["sys:crm"].badge == "up"
    assert boxes["sys:payments"].fill != boxes["sys:crm"].fill
    assert boxes["sys:erp"].badge == ""


def test_a_map_with_nothing_in_it_still_draws() -> None:
    assert {b.key for b in layout_map({}).boxes} == {"callers", "agent"}
    lonely = layout_map({"systems": {"fax": {"kind": "fax"}}, "flows": {}})
    check_drawing(lonely)
    assert "sys:fax" in {b.key for b in lonely.boxes}
