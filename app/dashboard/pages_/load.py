"""Load: throughput, lookup latency and errors over time, and the totals since start."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.dashboard import data, fmt, promtext, ui
from app.dashboard.health import COLOURS
from app.dashboard.loadstats import BUCKET_S, bucket_calls, calls_frame
from app.dashboard.systems import display_name

__all__ = ["render"]

HISTORY = 1000  # the most GET /calls returns; older calls live on in the counters
SPAN_MIN = pd.Timedelta(minutes=2)  # a short history still gets a readable time axis
SPAN_MAX = pd.Timedelta(minutes=15)
FAILURE_COLOURS = {
    "breaker_open": "#b71c1c",
    "unavailable": "#e53935",
    "timeout": "#ef6c00",
    "deadline_exceeded": "#8e24aa",
    "rate_limited": "#f9a825",
    "bulkhead_full": "#6d4c41",
    "retry_budget_exhausted": "#5e35b1",
    "malformed_response": "#00897b",
    "credentials_rejected": "#3949ab",
    "cancelled": "#90a4ae",
}
OUTCOMES = {
    "carry_on": ("carry on", COLOURS["ok"][1]),
    "use_cached_and_say_so": ("on cached data", "#f9a825"),
    "escalate": ("escalated", COLOURS["bad"][1]),
}


def render() -> None:
    ui.header(
        "Load",
        f"The newest {HISTORY:,} calls in {BUCKET_S}-second buckets, and the integration "
        "service's counters since it started.",
    )

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _over_time()
        _totals()
        _locust()

    live()


def _over_time() -> None:
    fetched = data.read("integration", "/calls", limit=HISTORY)
    if not fetched.ok:
        ui.explain(fetched, "Calls over time")
        return
    frame = calls_frame(fetched.data.get("calls", []))
    if frame.empty:
        st.info("No call yet: throughput appears here as soon as calls arrive.")
        return
    buckets = bucket_calls(frame)
    # Shown in the server's time zone, the one its logs use.
    local = datetime.now().astimezone().tzinfo
    buckets["at"] = buckets["at"].dt.tz_convert(local).dt.tz_localize(None)
    now = pd.Timestamp.now(tz=local).tz_localize(None)
    first = buckets["at"].min() if len(buckets) else now
    span = (max(min(first, now - SPAN_MIN), now - SPAN_MAX), now)
    utc_now = pd.Timestamp.now(tz="UTC")
    last_minute = frame[frame["at"] >= utc_now - pd.Timedelta(minutes=1)]
    n = len(last_minute)
    # Over the part of the minute that had calls, so a run that began 20 s ago reads right.
    seconds = min(60.0, max(1.0, (utc_now - frame["at"].min()).total_seconds()))
    cols = st.columns(4)
    cols[0].metric("Calls/s, last minute", f"{n / seconds:.1f}", border=True)
    cols[1].metric(
        "Lookup p95, last minute",
        fmt.ms(last_minute["elapsed_ms"].quantile(0.95)) if n else "—",
        border=True,
    )
    escalated = (last_minute["recommendation"] == "escalate").sum() / n if n else None
    cols[2].metric("Escalated, last minute", fmt.pct(escalated), border=True)
    cols[3].metric(
        "Calls shown",
        f"{len(frame):,}",
        border=True,
        help="Older calls are counted in the totals below.",
    )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            _throughput(buckets).update_xaxes(range=span),
            config={"displayModeBar": False},
            key="load_rate",
        )
    with right:
        st.plotly_chart(
            _latency(buckets).update_xaxes(range=span),
            config={"displayModeBar": False},
            key="load_latency",
        )
    st.plotly_chart(
        _outcomes(buckets).update_xaxes(range=span),
        config={"displayModeBar": False},
        key="load_outcomes",
    )


def _layout(figure: go.Figure, title: str, y_title: str, height: int = 300) -> go.Figure:
    figure.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis={"title": y_title, "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        hovermode="x unified",
    )
    return figure


def _mode(buckets: pd.DataFrame) -> str:
    return "lines+markers" if len(buckets) <= 60 else "lines"  # a lone bucket is still seen


def _throughput(buckets: pd.DataFrame) -> go.Figure:
    figure = go.Figure(
        go.Scatter(
            x=buckets["at"],
            y=buckets["calls_per_s"],
            mode=_mode(buckets),
            fill="tozeroy",
            line={"color": "#1e88e5", "width": 2},
            name="calls/s",
        )
    )
    return _layout(figure, "Throughput", "calls/s")


def _latency(buckets: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    figure.add_scatter(
        x=buckets["at"],
        y=buckets["p50_ms"],
        mode=_mode(buckets),
        name="p50",
        line={"color": "#90a4ae", "width": 2},
    )
    figure.add_scatter(
        x=buckets["at"],
        y=buckets["p95_ms"],
        mode=_mode(buckets),
        name="p95",
        line={"color": "#6a1b9a", "width": 2},
    )
    return _layout(figure, "Lookup latency", "ms")


def _outcomes(buckets: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for key, (label, colour) in OUTCOMES.items():
        figure.add_bar(x=buckets["at"], y=buckets[key], name=label, marker_color=colour)
    figure.update_layout(barmode="stack", bargap=0.1)
    return _layout(figure, f"What the agent was told, per {BUCKET_S} s", "calls")


def _totals() -> None:
    metrics = data.read_text("integration", "/metrics")
    if not metrics.ok:
        ui.explain(metrics, "The service's counters")
        return
    samples = promtext.parse(metrics.data)
    st.subheader("Since the service started", anchor=False)
    lookups = promtext.by_label(samples, "switchboard_lookups_total", "recommendation")
    total = sum(lookups.values())
    quantile = promtext.histogram_quantile
    p95 = quantile(samples, "switchboard_lookup_latency_seconds", 0.95)
    # Two rows of three: six tiles in a row cut their labels short at 1280 px.
    cols = [*st.columns(3), *st.columns(3)]
    cols[0].metric("Lookups", f"{total:,.0f}", border=True)
    cols[1].metric("Escalated", f"{lookups.get('escalate', 0):,.0f}", border=True)
    cols[2].metric(
        "Past their deadline",
        f"{promtext.total(samples, 'switchboard_lookups_past_deadline_total'):,.0f}",
        border=True,
    )
    cols[3].metric(
        "Lookup p95 (histogram)", fmt.ms(p95 * 1000 if p95 is not None else None), border=True
    )
    cols[4].metric(
        "Answers from cache",
        f"{promtext.total(samples, 'switchboard_cache_hits_total'):,.0f}",
        border=True,
    )
    refused = promtext.total(samples, "switchboard_admission_refusals_total")
    lag = promtext.total(samples, "switchboard_event_loop_lag_seconds")
    cols[5].metric(
        "Starts refused (busy)",
        f"{refused:,.0f}",
        help="Call starts turned away at once (503 with Retry-After) because the service "
        "could not have answered them in time; calls already under way are always served. "
        f"The busiest worker's event loop runs {lag * 1000:.0f} ms late now.",
        border=True,
    )
    failures = _failures(samples)
    if failures.empty:
        st.caption("No failed attempt at any source since the service started.")
        return
    figure = go.Figure()
    for outcome in sorted(failures["outcome"].unique()):
        part = failures[failures["outcome"] == outcome]
        figure.add_bar(
            y=part["system"],
            x=part["attempts"],
            name=outcome,
            orientation="h",
            marker_color=FAILURE_COLOURS.get(outcome, "#78909c"),
        )
    figure.update_layout(barmode="stack", bargap=0.3)
    height = 110 + 36 * failures["system"].nunique()
    st.plotly_chart(
        _layout(figure, "Failed attempts by source and reason", "", height),
        config={"displayModeBar": False},
        key="load_failures",
    )


def _failures(samples: list[promtext.Sample]) -> pd.DataFrame:
    rows: dict[tuple[str, str], float] = {}
    for s in samples:
        if s.name != "switchboard_source_attempts_total" or s.labels.get("outcome") == "ok":
            continue
        key = (display_name(s.labels.get("system", "?")), s.labels.get("outcome", "?"))
        rows[key] = rows.get(key, 0.0) + s.value
    return pd.DataFrame(
        [{"system": k[0], "outcome": k[1], "attempts": v} for k, v in rows.items() if v > 0],
        columns=["system", "outcome", "attempts"],
    )


def _locust() -> None:
    stats = data.read("locust", "/stats/requests")
    url = data.settings().locust_url
    if not stats.ok or not isinstance(stats.data, dict):
        st.caption(f"No Locust run is on (looked at {url}).")
        return
    run: dict[str, Any] = stats.data
    st.subheader("Locust run", anchor=False)
    cols = st.columns(4)
    cols[0].metric("State", str(run.get("state", "?")), border=True)
    cols[1].metric("Users", f"{run.get('user_count', 0):,}", border=True)
    cols[2].metric("Requests/s", f"{float(run.get('total_rps') or 0):.1f}", border=True)
    cols[3].metric("Failures", fmt.pct(run.get("fail_ratio")), border=True)


if __name__ == "__main__":
    render()
