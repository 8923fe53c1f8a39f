"""Chaos: break a system on purpose (latency, errors, outages, quotas) and watch the layer cope."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, fmt, ui
from app.dashboard.chaosform import (
    ERROR_KINDS,
    ERROR_WORDS,
    LATENCY_KINDS,
    PRESETS,
    FaultControls,
    build_profile,
    controls_from_profile,
    describe_profile,
)
from app.dashboard.systems import OVER_SQL, READ_SYSTEMS, WRITE_SYSTEMS, display_name
from app.scenarios.library import load_catalog

__all__ = ["render"]


def render() -> None:
    ui.header(
        "Chaos",
        "Every change goes straight to the mock enterprise's /_chaos API and takes effect "
        "on the next request; watch the Flow map and Calls pages react.",
    )
    described = data.chaos()
    if not described.ok:
        ui.explain(described, "The chaos control plane")
        return
    known: list[str] = described.data.get("known_systems", [])
    _feedback()

    @st.fragment(run_every=ui.live_every())
    def overview() -> None:
        _overview(known)

    overview()
    st.divider()
    left, right = st.columns([3, 2], gap="large")
    with left:
        _system_controls(known)
    with right:
        _presets(known)
        _scenarios()


def _feedback() -> None:
    """The outcome of the last change, shown once after the rerun it caused."""
    message = st.session_state.pop("chaos_feedback", None)
    if message:
        ok, text = message
        (st.success if ok else st.error)(text)


def _say(fetched: Any, done: str) -> None:
    st.session_state["chaos_feedback"] = (fetched.ok, done if fetched.ok else str(fetched.error))


def _overview(known: list[str]) -> None:
    model = data.health_model()
    described, stats = data.chaos(), data.chaos_stats()
    faults = described.data.get("systems", {}) if described.ok else {}
    per_system = stats.data.get("systems", {}) if stats.ok else {}
    rows = []
    for system in known:
        entry = model.of(system)
        fault = faults.get(system) or {}
        seen = per_system.get(system) or {}
        requests, faulted = int(seen.get("requests", 0)), int(seen.get("faulted", 0))
        own = ", ".join(str(f.get("kind", "fault")) for f in _own(described, system))
        injected = describe_profile(fault.get("profile"), down_now=bool(fault.get("down_now")))
        if own:
            injected = own if injected == "no faults" else f"{injected} · {own}"
        rows.append(
            {
                "state": entry.state,
                "system": display_name(system),
                "path": _path(system),
                "injected now": injected,
                "why": "; ".join(entry.reasons[:2]) or "—",
                "requests since reset": "over SQL" if system in OVER_SQL else f"{requests:,}",
                "faulted": fmt.pct(faulted / requests if requests else None),
            }
        )
    st.subheader("Fault profile now", anchor=False)
    st.caption(
        f"State and why: the health model every page shows ({model.window_words}); requests "
        "and the share the mocks faulted: counted by the mocks since the last reset."
    )
    st.table(ui.state_rows_style(pd.DataFrame(rows)))


def _own(described: Any, system: str) -> list[dict[str, Any]]:
    """The faults a system runs itself (a database lock, a middleware field fault)."""
    own = described.data.get("system_faults", {}) if described.ok else {}
    found = own.get(system) if isinstance(own, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _path(system: str) -> str:
    sides = [
        n for n, group in (("read", READ_SYSTEMS), ("write", WRITE_SYSTEMS)) if system in group
    ]
    return " + ".join(sides) or "—"


def _system_controls(known: list[str]) -> None:
    st.subheader("Break one system", anchor=False)
    # The read path's sources first: they are what a caller feels at once.
    ordered = [s for s in READ_SYSTEMS if s in known] + [s for s in known if s not in READ_SYSTEMS]
    system = st.selectbox("System", ordered, key="chaos_system", format_func=_label)
    if system is None:
        return
    current = data.chaos_profile(system)
    profile = (current.data or {}).get("profile") if current.ok else None
    down_now = bool((current.data or {}).get("down_now")) if current.ok else False
    st.markdown(
        f"**Active on {display_name(system)}:** {describe_profile(profile, down_now=down_now)}"
    )
    start = controls_from_profile(profile)
    with st.form(key=f"chaos_form_{system}", border=True):
        latency = st.segmented_control(
            "Added latency",
            LATENCY_KINDS,
            default=start.latency,
            required=True,
            key=f"chaos_{system}_latency",
        )
        a, b = st.columns(2)
        low = a.number_input(
            "fixed ms / uniform low / median",
            min_value=0.0,
            max_value=60_000.0,
            value=float(start.latency_ms),
            step=50.0,
            key=f"chaos_{system}_ms",
        )
        high = b.number_input(
            "uniform high / p99 ms",
            min_value=0.0,
            max_value=60_000.0,
            value=float(start.latency_high_ms),
            step=50.0,
            key=f"chaos_{system}_high_ms",
        )
        error_pct = st.slider(
            "Requests that fail (%)",
            0,
            100,
            round(start.error_pct),
            key=f"chaos_{system}_error_pct",
        )
        kinds = st.multiselect(
            "How they fail",
            ERROR_KINDS,
            default=list(start.error_kinds),
            format_func=lambda k: ERROR_WORDS.get(k, k),
            key=f"chaos_{system}_kinds",
        )
        retry_after = st.number_input(
            "Retry-After on 429s (s)",
            0.0,
            600.0,
            float(start.retry_after_s),
            key=f"chaos_{system}_retry",
        )
        c, d, e = st.columns([2, 2, 3])
        quota = c.toggle("Quota", value=start.quota, key=f"chaos_{system}_quota")
        requests = d.number_input(
            "requests", 1, 100_000, int(start.quota_requests), key=f"chaos_{system}_quota_requests"
        )
        per_s = e.number_input(
            "per seconds", 0.1, 3600.0, float(start.quota_per_s), key=f"chaos_{system}_quota_per_s"
        )
        if st.form_submit_button(
            f"Apply to {display_name(system)}", type="primary", key=f"chaos_{system}_apply"
        ):
            controls = FaultControls(
                latency=latency or "none",
                latency_ms=low,
                latency_high_ms=high,
                error_pct=float(error_pct),
                error_kinds=tuple(kinds),
                retry_after_s=retry_after,
                quota=quota,
                quota_requests=int(requests),
                quota_per_s=per_s,
                routes=start.routes,
            )
            body = build_profile(controls)
            done = data.write("mocks", "PUT", f"/_chaos/systems/{system}", json=body)
            _say(done, f"{display_name(system)}: {describe_profile(body)}")
            st.rerun()
    f, g, h = st.columns([2, 2, 3], vertical_alignment="bottom")
    seconds = f.number_input("Outage (s)", 1, 3600, 30, key=f"chaos_{system}_outage_s")
    if g.button("Take it down", key=f"chaos_{system}_outage", icon=":material/power_off:"):
        done = data.write(
            "mocks", "POST", f"/_chaos/systems/{system}/outage", json={"seconds": seconds}
        )
        _say(done, f"{display_name(system)} is down for {seconds} s")
        st.rerun()
    if h.button(f"Clear {display_name(system)}'s faults", key=f"chaos_{system}_clear"):
        _say(data.clear_chaos(system), f"{display_name(system)} is back to normal")
        st.rerun()


def _label(system: str) -> str:
    return f"{display_name(system)} ({system})"


def _presets(known: list[str]) -> None:
    st.subheader("One-click stories", anchor=False)
    for name, (system, profile, outage_s) in PRESETS.items():
        if system not in known:
            continue
        if st.button(name, key=f"preset_{name}", width="stretch"):
            if outage_s:
                done = data.write(
                    "mocks", "POST", f"/_chaos/systems/{system}/outage", json={"seconds": outage_s}
                )
            else:
                done = data.write("mocks", "PUT", f"/_chaos/systems/{system}", json=profile)
            _say(done, f"Applied: {name}")
            st.rerun()
    if st.button(
        "Reset everything",
        key="chaos_reset",
        type="primary",
        width="stretch",
        icon=":material/restart_alt:",
    ):
        _say(data.write("mocks", "POST", "/_chaos/reset"), "Every fault cleared, statistics zeroed")
        st.rerun()


def _scenarios() -> None:
    st.subheader("Scenarios", anchor=False)
    st.caption(
        "A scenario plays a timeline of faults against live simulated traffic and scores how "
        "the calls fared (the same as `.venv/bin/switchboard scenario run NAME`); its scorecard "
        "appears on the Scorecards page."
    )
    launcher = data.scenario_launcher()
    names = [s.name for s in load_catalog()]
    chosen = st.selectbox("Scenario", names, key="scenario_name")
    speed = st.select_slider(
        "Speed",
        [1, 2, 5, 10, 20],
        value=10,
        key="scenario_speed",
        help="How much faster than written the timeline runs",
    )
    a, b = st.columns(2)
    if chosen and a.button("Start", key="scenario_start", icon=":material/play_arrow:"):
        try:
            launcher.start(chosen, float(speed))
            st.toast(f"Started {chosen}")
        except RuntimeError as exc:
            st.warning(str(exc))
    if b.button("Stop", key="scenario_stop", icon=":material/stop:"):
        st.toast("Stopped the scenario" if launcher.stop() else "No scenario is running")
    status = launcher.status()
    if status.name is None:
        return
    if status.running:
        st.info(f"**{status.name}** is running ({status.elapsed_s:.0f} s).")
    else:
        verdict = "passed" if status.exit_code == 0 else f"ended with exit code {status.exit_code}"
        st.caption(f"Last run: **{status.name}** {verdict}.")
    if status.output_tail:
        with st.expander("Runner output"):
            st.code(status.output_tail, language=None)


if __name__ == "__main__":
    render()
