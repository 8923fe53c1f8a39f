"""Guided demo: pick an incident, press Start. The page drives the calls, breaks the
systems on the scenario's timeline and tells, line by line, what broke, what the layer
did, what callers heard, what was held and replayed, beside the live flow map; it ends on
the scorecard. No terminal: ``app/dashboard/demo/`` runs it in the background."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, ui
from app.dashboard.demo import CATEGORIES, INCIDENTS, PACES, DemoBusy, DemoView, Line, incident
from app.dashboard.demo.live import demo_runner
from app.dashboard.demo.runner import DemoRunner
from app.dashboard.demo.words import name
from app.dashboard.pages_ import flow_map
from app.dashboard.scorecard_view import calls_rows, expectation_rows, run_header
from app.scenarios import find_scenario
from app.simulator.units import format_duration

__all__ = ["render"]

# The badge colour of each kind of line (Streamlit's named colours).
BADGES = {
    "demo": "gray",
    "broke": "red",
    "layer": "blue",
    "caller": "violet",
    "queue": "orange",
    "replayed": "green",
    "recovered": "green",
    "verdict": "primary",
}
PHASE_WORDS = {
    "idle": "ready",
    "starting": "starting: loading callers, checking the stack",
    "running": "running",
    "draining": "traffic over: waiting for the outbox to drain",
    "done": "finished",
    "stopped": "stopped",
    "failed": "failed",
}
VERDICT = {"pass": "ok", "fail": "bad"}


def render() -> None:
    # A presenter needs the width: the map and the story side by side.
    st.set_page_config(initial_sidebar_state="collapsed")
    ui.header(
        "Guided demo",
        "Pick an incident, press Start: calls flow, the incident happens on its timeline, "
        "and the story is told as it happens beside the flow map. It ends on the scorecard.",
    )
    runner = demo_runner(data.settings())
    view = runner.view()
    st.session_state["demo_phase_seen"] = view.phase
    _controls(runner, view)
    if view.result is not None and not view.running:
        _scorecard(view)
    story, live_map = st.columns([4, 8], gap="small")  # the map wide enough to read
    with story:
        _story(runner)
    with live_map, st.container(key="demo_map"):
        flow_map.embed()


def _controls(runner: DemoRunner, view: DemoView) -> None:
    with st.container(border=True, key="demo_controls"):
        pick, pace, start, stop = st.columns([6, 3, 1.4, 1.4], vertical_alignment="bottom")
        chosen = pick.selectbox(
            "Incident",
            [i.scenario for i in INCIDENTS],
            format_func=lambda key: incident(key).title,
            key="demo_incident",
            disabled=view.running,
        )
        speed = pace.segmented_control(
            "Pace (times faster than written)",
            PACES,
            default=PACES[0],
            format_func=lambda p: f"{p:g}×",
            key="demo_pace",
            disabled=view.running,
            required=True,
        )
        started = start.button(
            "Start", type="primary", icon=":material/play_arrow:", disabled=view.running
        )
        if started:
            try:
                runner.start(incident(chosen), float(speed or 1))
            except (DemoBusy, ValueError, KeyError) as exc:
                st.error(str(exc))
            else:
                st.rerun()
        if stop.button("Stop", icon=":material/stop:", disabled=not view.running):
            runner.stop()
            st.rerun()
        shown = view.incident if view.running and view.incident else incident(chosen)
        scenario = find_scenario(shown.scenario)
        traffic = scenario.duration / (view.speed if view.running else float(speed or 1))
        st.caption(
            f"**Watch:** {shown.watch} Calls run for **{format_duration(traffic)}** at this "
            "pace, then the outbox drains.",
            help=scenario.description,
        )


@st.fragment(run_every=1.0)
def _story(runner: DemoRunner) -> None:
    view = runner.view()
    if view.phase != st.session_state.get("demo_phase_seen"):
        st.rerun()  # started, finished or stopped: the controls and the scorecard change
    title = view.incident.title if view.incident else "No demo yet"
    st.subheader(title, anchor=False)
    if view.phase == "idle":
        st.caption("The story of the demo appears here as it happens.")
        return
    progress = min(1.0, view.elapsed_s / view.traffic_s) if view.traffic_s else 0.0
    if view.phase == "running" and progress >= 1:
        told = "no new calls; the last ones are finishing"
    elif not view.running:
        told = f"calls ran {view.traffic_s:.0f} s"
    else:
        told = f"{view.elapsed_s:.0f} s of {view.traffic_s:.0f} s of calls"
    st.progress(
        1.0 if view.phase == "done" else progress, text=f"{PHASE_WORDS[view.phase]} · {told}"
    )
    injected = "; ".join(f"{name(s)}: {words}" for s, words in view.in_force.items())
    st.markdown(f"**Injected now:** {injected or 'nothing'}")
    with st.container(height=430, autoscroll=True, key="demo_story", border=True):
        for line in view.lines:
            st.markdown(_line(line))


def _line(line: Line) -> str:
    badge = f":{BADGES[line.category]}-badge[{CATEGORIES[line.category]}]"
    text = line.text.replace("$", "\\$")  # dollars are not LaTeX
    return f"`{line.when}` {badge} {text}"


def _scorecard(view: DemoView) -> None:
    result = view.result or {}
    card = result.get("scorecard") or {}
    head = run_header(result)
    colour, icon = ("green", "check_circle") if head.passed else ("red", "cancel")
    with st.container(border=True, key="demo_scorecard"):
        st.markdown(
            f"### :{colour}-background[:material/{icon}: {head.verdict}] &nbsp;Scorecard: "
            f"{view.incident.title if view.incident else head.scenario}"
        )
        st.markdown(f"**{head.summary}** · {head.facts}")
        expected, calls = st.columns([3, 2])
        rows = expectation_rows(card)
        if rows:
            frame = ui.styled_health(pd.DataFrame(rows), "verdict", VERDICT)
            expected.table(frame, hide_index=True)
        calls.table(pd.DataFrame(calls_rows(card)), hide_index=True)
        calls.markdown(_writes(card))
        st.caption("The same scorecard is on the Scorecards page, with the run's timeline.")


def _writes(card: dict[str, Any]) -> str:
    counts = [
        f"{card.get(key, 0):,} {word}"
        for key, word in (
            ("writes_applied", "applied"),
            ("writes_pending", "pending"),
            ("writes_dead", "dead"),
            ("writes_lost", "lost"),
            ("duplicates", "applied twice"),
        )
    ]
    return f"**Writes:** {card.get('writes_acknowledged', 0):,} acknowledged: " + ", ".join(counts)


if __name__ == "__main__":
    render()
