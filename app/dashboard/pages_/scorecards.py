"""Scorecards: each scenario run's verdict, what was expected against what was observed,
and the run's timeline of faults and outcomes (``app/dashboard/scorecard_view.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.dashboard import data, ui
from app.dashboard.api import Fetched
from app.dashboard.health import COLOURS
from app.dashboard.scorecard_view import (
    calls_rows,
    expectation_rows,
    fault_bars,
    headline,
    run_header,
    timeline_rows,
    writes_rows,
)

__all__ = ["render", "run_command"]

_BAR_LEVEL = {"outage": "bad", "lock": "bad"}
VERDICT = {"pass": "ok", "fail": "bad", "passed": "ok", "failed": "bad"}
# The runs table's few numbers, under short names so the table fits the column.
_HEADLINE = {
    "calls_total": "calls",
    "failed_ratio": "failed",
    "escalated_ratio": "escalated",
    "lookup_p95_ms": "lookup p95",
    "writes_lost": "writes lost",
}


def run_command(name: str = "NAME") -> str:
    """The command that runs a scenario: the ``switchboard`` console script where this
    environment has it installed, else the module form that always works."""
    if (Path(sys.executable).parent / "switchboard").exists():
        return f"switchboard scenario run {name}"
    return f"python -m app scenario run {name}"


def render() -> None:
    ui.header(
        "Scorecards",
        "Each scenario scripts faults and traffic against the stack and grades how the "
        "layer coped: what callers experienced, what was written, what was lost.",
    )

    fetched = data.read("integration", "/scenarios/results")
    st.session_state[_SEEN] = _signature(fetched)

    # Only a watcher is live: the page redraws when a run is added (or the service comes
    # or goes), never under a reader who has the run list open.
    @st.fragment(run_every=ui.live_every())
    def watch() -> None:
        now = _signature(data.read("integration", "/scenarios/results"))
        if now != st.session_state.get(_SEEN):
            st.session_state[_SEEN] = now
            st.rerun()

    watch()
    _results(fetched)


_SEEN = "_scorecards_seen"


def _signature(fetched: Fetched) -> tuple[str, ...]:
    if not fetched.ok:
        return ("unanswered", str(fetched.status))
    results = (fetched.data or {}).get("results", [])
    return tuple(f"{r.get('name')}@{r.get('started_at')}" for r in results if isinstance(r, dict))


def _results(fetched: Fetched) -> None:
    results = (fetched.data or {}).get("results", []) if fetched.ok else []
    if fetched.absent or (fetched.ok and not results):
        st.info(
            f"No scenario has run yet. Run one with `{run_command()}` (for example "
            f"`{run_command('healthy')}`), or start one from the Chaos page; its "
            "scorecard appears here when it finishes."
        )
        return
    if not fetched.ok:
        ui.explain(fetched, "Scenario results")
        return
    results = [r for r in results if isinstance(r, dict)]
    results.sort(key=lambda r: str(r.get("started_at", "")), reverse=True)
    headers = [run_header(r) for r in results]
    passed = sum(1 for h in headers if h.passed)
    st.markdown(
        f"**{len(results)} {'run' if len(results) == 1 else 'runs'}** kept: "
        f":green[{passed} passed] · "
        f":red[{len(results) - passed} failed]"
    )
    table = pd.DataFrame(
        [
            {
                "verdict": "passed" if h.passed else "failed",
                "scenario": h.scenario,
                "started": h.started,
                "met": f"{h.met} of {h.expected}" if h.expected else "—",
                **headline(r.get("scorecard") or {}, _HEADLINE),
            }
            for h, r in zip(headers, results, strict=True)
        ]
    )
    st.dataframe(
        ui.styled_health(table, "verdict", VERDICT),
        hide_index=True,
        width="stretch",
        height=ui.table_height(len(table), most=6),
    )
    index = st.selectbox(
        "Scorecard of",
        range(len(results)),
        format_func=lambda i: (
            f"{headers[i].scenario} · {headers[i].verdict.lower()} · {headers[i].started}"
        ),
        key="scorecard_run",
    )
    _scorecard(results[index or 0])


def _scorecard(result: dict[str, Any]) -> None:
    head = run_header(result)
    card = result.get("scorecard") or {}
    colour, icon = ("green", "check_circle") if head.passed else ("red", "cancel")
    with st.container(border=True, key="scorecard_header"):
        st.markdown(
            f"### :{colour}-background[:material/{icon}: {head.verdict}] &nbsp;{head.scenario}"
        )
        st.markdown(
            f"**{head.summary}** · started {head.started}"
            + (f" · {head.facts}" if head.facts else "")
        )
        if head.description:
            st.caption(head.description)

    st.subheader("Expectations", anchor=False)
    rows = expectation_rows(card)
    if rows:
        st.table(
            ui.styled_health(pd.DataFrame(rows), "verdict", VERDICT),
            hide_index=True,
        )
    else:
        st.caption("This scenario writes no expectations; it is judged passed.")

    st.subheader("Timeline", anchor=False)
    bars = fault_bars(card)
    if bars:
        st.plotly_chart(_fault_chart(bars, card), width="stretch", key="scorecard_timeline")
    story = timeline_rows(card)
    if story:
        st.table(pd.DataFrame(story), hide_index=True)
    else:
        st.caption("This run kept no timeline.")

    left, right = st.columns(2)
    with left:
        st.subheader("Calls", anchor=False)
        calls = calls_rows(card)
        if calls:
            st.table(pd.DataFrame(calls), hide_index=True)
    with right:
        st.subheader("Writes", anchor=False)
        writes = writes_rows(card)
        if writes:
            st.table(pd.DataFrame(writes), hide_index=True)
        else:
            st.caption("No writes were acknowledged in this run.")
    _what_callers_heard(card)
    st.download_button(
        "Download this scorecard (JSON)",
        json.dumps(result, indent=2, default=str),
        file_name=f"scorecard-{head.scenario}-{head.started.replace(' ', 'T')}.json",
        mime="application/json",
        icon=":material/download:",
        key="scorecard_download",
    )


def _what_callers_heard(card: dict[str, Any]) -> None:
    heard = [h for h in card.get("caller_heard") or [] if isinstance(h, dict)]
    if not heard:
        return
    st.subheader("What callers heard most", anchor=False)
    st.caption("Numbers in a line are written N, so lines that differ only in them count once.")
    frame = pd.DataFrame(
        [{"times": int(h.get("times") or 0), "said": h.get("say", "")} for h in heard]
    )
    st.table(frame, hide_index=True)


def _fault_chart(bars: list[dict[str, Any]], card: dict[str, Any]) -> go.Figure:
    systems = list(dict.fromkeys(b["system"] for b in bars))
    figure = go.Figure(
        go.Bar(
            y=[b["system"] for b in bars],
            x=[b["end_s"] - b["start_s"] for b in bars],
            base=[b["start_s"] for b in bars],
            orientation="h",
            text=[f"{b['what']} · {b['calls']:,} calls" for b in bars],
            textposition="inside",
            insidetextanchor="start",
            marker={
                # An outage in the health model's "down" colours, any other fault "degraded".
                "color": [COLOURS[_BAR_LEVEL.get(b["action"], "warn")][0] for b in bars],
                "line": {
                    "color": [COLOURS[_BAR_LEVEL.get(b["action"], "warn")][1] for b in bars],
                    "width": 1,
                },
            },
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    duration = card.get("duration_s")
    if isinstance(duration, int | float):
        figure.add_vline(x=duration, line_dash="dot", line_color="#546e7a")
        figure.add_annotation(
            x=duration, y=1, yref="paper", text="traffic ends", showarrow=False, xanchor="right"
        )
    figure.update_layout(
        height=90 + 38 * len(systems),
        margin={"l": 10, "r": 10, "t": 24, "b": 36},
        xaxis={"title": "seconds since traffic started", "rangemode": "tozero"},
        yaxis={"autorange": "reversed"},
        showlegend=False,
        font={"size": 13},
    )
    return figure


if __name__ == "__main__":
    render()
