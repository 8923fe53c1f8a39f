"""The dashboard's plain-Python parts: verdicts, rates, chart data, the map, the HTTP client.

No sockets: the client is exercised over ``httpx.MockTransport`` (a transport that
answers from a function), everything else is pure.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest

from app.dashboard import fmt, promtext
from app.dashboard.api import ServiceClient
from app.dashboard.chaosform import (
    ERROR_KINDS,
    LATENCY_KINDS,
    PRESETS,
    FaultControls,
    build_profile,
    controls_from_profile,
    describe_profile,
)
from app.dashboard.flow_graph import FlowNode, flow_dot, speed_class
from app.dashboard.health import COLOURS
from app.dashboard.loadstats import bucket_calls, calls_frame
from app.dashboard.rates import RateWindow
from app.dashboard.systems import read_systems
from mocks.chaos.models import FaultProfile

# -- fault profiles --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latency", "error_pct", "quota"),
    list(itertools.product(LATENCY_KINDS, (0.0, 35.0), (False, True))),
)
def test_every_control_combination_is_a_profile_the_mocks_accept(
    latency: str, error_pct: float, quota: bool
) -> None:
    controls = FaultControls(
        latency=latency,
        latency_ms=900,
        latency_high_ms=100,
        error_pct=error_pct,
        error_kinds=ERROR_KINDS,
        quota=quota,
        quota_requests=3,
        quota_per_s=2,
    )
    body = build_profile(controls)
    FaultProfile.model_validate(body)  # what PUT /_chaos/systems/<s> validates
    back = controls_from_profile(FaultProfile.model_validate(body).model_dump(mode="json"))
    assert back.latency == latency
    assert back.error_pct == pytest.approx(error_pct)
    assert back.quota is quota


def test_no_controls_means_no_faults() -> None:
    assert build_profile(FaultControls()) == {}
    assert describe_profile({}) == "no faults"
    assert describe_profile(None, down_now=True) == "DOWN (outage)"


def test_a_profile_reads_back_in_words() -> None:
    profile = {
        "latency": {"kind": "lognormal", "p50_ms": 120, "p99_ms": 900},
        "errors": {"rate": 0.1, "kinds": {"503": 3, "429": 1}},
        "rate_limit": {"requests": 25, "per_s": 1},
    }
    assert describe_profile(profile) == (
        "+p50 120 / p99 900 ms · 10% errors (503, 429) · quota 25 per 1 s"
    )
    assert describe_profile({"errors": {"rate": 0.9}}) == "90% errors (500)"


def test_presets_are_valid_profiles() -> None:
    for system, profile, _ in PRESETS.values():
        assert system
        FaultProfile.model_validate(profile)


# -- rates and metrics ----------------------------------------------------------------


def test_rates_need_two_real_readings_and_survive_a_reset() -> None:
    window = RateWindow(window_s=10)
    window.add(100.0, {"calls": 10})
    assert window.rate("calls") is None
    window.add(100.0, {"calls": 99})  # the same cached answer again: ignored
    window.add(102.0, {"calls": 30})
    assert window.rate("calls") == 10.0
    window.add(104.0, {"calls": 0})  # the service restarted
    assert window.rate("calls") is None
    assert window.share("calls", "missing") is None


def test_old_readings_leave_the_window() -> None:
    window = RateWindow(window_s=10)
    for t in range(0, 30, 2):
        window.add(float(t), {"n": t * 5.0})
    assert window.rate("n") == 5.0
    assert window.delta("n") == 50.0  # the last 10 s at 5/s: the older readings left


METRICS = """\
# TYPE x_latency_seconds histogram
x_latency_seconds_bucket{le="0.1"} 50.0
x_latency_seconds_bucket{le="0.2"} 90.0
x_latency_seconds_bucket{le="+Inf"} 100.0
x_latency_seconds_count 100.0
x_latency_seconds_sum 9.0
# TYPE x_attempts_total counter
x_attempts_total{system="crm",outcome="ok"} 7.0
x_attempts_total{system="crm",outcome="timeout"} 3.0
x_attempts_total{system="erp",outcome="ok"} 1.0
"""


def test_metrics_text_totals_and_histogram_quantiles() -> None:
    samples = promtext.parse(METRICS)
    assert promtext.by_label(samples, "x_attempts_total", "system") == {"crm": 10.0, "erp": 1.0}
    assert promtext.total(samples, "x_attempts_total", outcome="ok") == 8.0
    assert promtext.histogram_quantile(samples, "x_latency_seconds", 0.5) == pytest.approx(0.1)
    assert promtext.histogram_quantile(samples, "x_latency_seconds", 0.7) == pytest.approx(0.15)
    assert promtext.histogram_quantile(samples, "x_latency_seconds", 0.95) == pytest.approx(0.2)
    assert promtext.histogram_quantile(samples, "nothing", 0.5) is None
    assert promtext.parse("not { prometheus") == []


# -- calls over time -----------------------------------------------------------------------


def test_calls_are_bucketed_with_gaps_filled() -> None:
    start = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    calls = [
        {
            "started_at": (start + timedelta(seconds=s)).isoformat(),
            "elapsed_ms": ms,
            "recommendation": rec,
        }
        for s, ms, rec in [
            (0, 10, "carry_on"),
            (1, 30, "escalate"),
            (2, 20, "carry_on"),
            (16, 40, "use_cached_and_say_so"),
            (17, 50, "carry_on"),
        ]
    ]
    buckets = bucket_calls(calls_frame(calls))
    assert list(buckets["calls_per_s"]) == [0.6, 0.0, 0.0, 0.4]
    assert buckets["escalate"].tolist() == [1, 0, 0, 0]
    assert buckets["p50_ms"].iloc[0] == 20
    assert pd.isna(buckets["p95_ms"].iloc[1])
    assert bucket_calls(calls_frame([])).empty


# -- the flow map ----------------------------------------------------------------------------


def test_the_map_colours_nodes_by_state_and_moves_the_busy_edges() -> None:
    agent = FlowNode("agent", "Voice agent", "ok", "calling")
    layer = FlowNode("layer", "Layer <8000>", "ok", "answering", rate_per_s=4.0, flow="calls")
    crm = FlowNode("read_crm", "CRM", "bad", "down", "breaker open", 0.5, "contact")
    idle = FlowNode("read_erp", "ERP", "ok", "up · idle", rate_per_s=0.0, flow="orders")
    dot = flow_dot(agent, layer, [crm, idle], None, [])
    assert '"agent" -> "layer" [tooltip="calls 4.0/s"' in dot
    assert 'penwidth=2.3, class="flow flow-2"]' in dot  # four calls a second: brisk dashes
    assert 'class="flow flow-1"' in dot  # half a call a second: the slow dashes
    assert '"layer" -> "read_erp" [tooltip="orders 0/s"' in dot
    assert 'penwidth=1.5, style="dotted"]' in dot  # no traffic: still
    assert f'fillcolor="{COLOURS["bad"][0]}"' in dot and "DOWN" in dot and "breaker open" in dot
    assert "Layer &lt;8000&gt;" in dot  # HTML labels are escaped
    assert "outbox" not in dot
    assert dot.count("{") == dot.count("}")
    assert [speed_class(r) for r in (None, 0.0, 0.5, 2.0, 9.0)] == [
        "",
        "",
        "flow flow-1",
        "flow flow-2",
        "flow flow-3",
    ]


def test_no_text_on_the_map_is_drawn_under_twelve_points() -> None:
    node = FlowNode(
        "read_crm",
        "CRM",
        "warn",
        "degraded",
        "fault injected: +350 ms",
        2.0,
        "x",
        "0% errors\np95 352 ms",
    )
    dot = flow_dot(node, node, [node], node, [node])
    sizes = [float(x) for x in re.findall(r'point-size="([0-9.]+)"', dot)]
    sizes += [float(x) for x in re.findall(r"fontsize=([0-9.]+)", dot)]
    assert sizes and min(sizes) >= 15  # 15 pt at the 0.8 scale a 1280 px page draws: 12 px


def test_read_systems_keep_the_lookup_order_and_drop_write_only_ones() -> None:
    assert read_systems(["erp", "payments", "crm", "newcomer"]) == ["crm", "erp", "newcomer"]
    assert read_systems(None)[0] == "crm"


def test_numbers_read_at_a_glance() -> None:
    assert (fmt.ms(3.14), fmt.ms(1234.5), fmt.ms(None)) == ("3.1 ms", "1,234 ms", "—")
    assert (fmt.pct(0.005), fmt.pct(0.25), fmt.rate(None), fmt.rate(0)) == (
        "<1%",
        "25%",
        "…",
        "0/s",
    )
    assert (fmt.age(5), fmt.age(300), fmt.age(7200)) == ("5 s", "5 min", "2.0 h")


# -- the HTTP client --------------------------------------------------------------------------


def client(handler: object, token: str | None = None) -> ServiceClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return ServiceClient("integration service", "http://svc", http, token=token)


def test_the_client_turns_failures_into_sentences() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/missing":
            return httpx.Response(404, json={"detail": "Not Found"})
        if path == "/locked":
            return httpx.Response(401, json={"detail": "bad token"})
        if path == "/invalid":
            detail = [{"loc": ["body", "errors", "rate"], "msg": "must be <= 1"}]
            return httpx.Response(422, json={"detail": detail})
        if path == "/text":
            return httpx.Response(200, text="not json")
        if path == "/down":
            raise httpx.ConnectError("refused", request=request)
        assert request.headers["authorization"] == "Bearer t0k"
        return httpx.Response(200, json={"ok": True, "q": request.url.params.get("q")})

    svc = client(answer, token="t0k")
    assert svc.get("/ok", {"q": "1", "empty": None}).data == {"ok": True, "q": "1"}
    missing = svc.get("/missing")
    assert missing.absent and not missing.ok
    assert "GET /missing is not available" in (missing.error or "")
    assert "SWITCHBOARD_INTEGRATION_API_TOKEN" in (svc.get("/locked").error or "")
    assert svc.send("PUT", "/invalid", json={}).error == (
        "PUT /invalid on the integration service failed (422): errors.rate: must be <= 1"
    )
    assert "not JSON" in (svc.get("/text").error or "")
    assert svc.text("/text").data == "not json"
    down = svc.get("/down")
    assert not down.absent and "is not reachable (connect)" in (down.error or "")


def test_the_dashboard_answers_only_the_hosts_it_trusts() -> None:
    from app.dashboard.hosts import host_allowed

    loopback = ("127.0.0.1", "localhost", "::1")
    assert host_allowed("127.0.0.1:8501", loopback) and host_allowed("LOCALHOST", loopback)
    assert host_allowed("[::1]:8501", loopback) and host_allowed(None, loopback)
    assert not host_allowed("evil.example:8501", loopback)
    assert not host_allowed("127.0.0.1.evil.example", loopback)
    assert not host_allowed("", loopback) and host_allowed("anything", ("*",))
