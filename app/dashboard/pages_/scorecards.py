"""Scorecards: the latest scenario runs, passed or failed, and the numbers behind the verdict."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, ui

__all__ = ["render"]

SHOWN = 10
VERDICT = {"passed": "ok", "failed": "bad"}


def render() -> None:
    ui.header(
        "Scorecards",
        "Each scenario scripts faults and traffic against the stack and grades how the "
        "layer coped: what callers experienced, what was written, what was lost.",
    )

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _results()

    live()


def _results() -> None:
    fetched = data.read("integration", "/scenarios/results")
    results = (fetched.data or {}).get("results", []) if fetched.ok else []
    if fetched.absent or (fetched.ok and not results):
        st.info(
            "No scenario has run yet. Run one with `python -m app scenario NAME`; "
            "its scorecard appears here when it finishes."
        )
        return
    if not fetched.ok:
        ui.explain(fetched, "Scenario results")
        return
    results = sorted(results, key=lambda r: str(r.get("started_at", "")), reverse=True)
    passed = sum(1 for r in results if r.get("passed"))
    cols = st.columns(3)
    cols[0].metric("Runs", len(results), border=True)
    cols[1].metric("Passed", passed, border=True)
    cols[2].metric("Failed", len(results) - passed, border=True)
    table = pd.DataFrame(
        [
            {
                "verdict": "passed" if r.get("passed") else "failed",
                "scenario": r.get("name", "?"),
                "started": str(r.get("started_at", ""))[:19].replace("T", " "),
                **_headline(r.get("scorecard") or {}),
            }
            for r in results
        ]
    )
    st.dataframe(
        ui.styled_health(table, "verdict", VERDICT),
        hide_index=True,
        width="stretch",
        height=ui.table_height(len(table), most=10),
    )
    for i, result in enumerate(results[:SHOWN]):
        verdict = "passed" if result.get("passed") else "failed"
        started = str(result.get("started_at", ""))[:19].replace("T", " ")
        title = f"{result.get('name', '?')} · {verdict} · {started}"
        with st.expander(title, expanded=i == 0, icon=_icon(verdict), key=f"scorecard_open_{i}"):
            _scorecard(result.get("scorecard") or {}, key=f"scorecard_{i}")


def _icon(verdict: str) -> str:
    return ":material/check_circle:" if verdict == "passed" else ":material/cancel:"


def _headline(scorecard: dict[str, Any], most: int = 4) -> dict[str, Any]:
    """The first few plain numbers of a scorecard, as extra table columns."""
    out: dict[str, Any] = {}
    for key, value in scorecard.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key.replace("_", " ")] = _number(value, key)
            if len(out) == most:
                break
    return out


def _scorecard(scorecard: dict[str, Any], *, key: str) -> None:
    numbers = {k: v for k, v in scorecard.items() if isinstance(v, int | float | bool)}
    if numbers:
        cols = st.columns(min(len(numbers), 4))
        for i, (name, value) in enumerate(numbers.items()):
            shown = ("yes" if value else "no") if isinstance(value, bool) else _number(value, name)
            cols[i % len(cols)].metric(name.replace("_", " "), shown, border=True)
    for name, value in scorecard.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            st.markdown(f"**{name.replace('_', ' ')}**")
            frame = pd.DataFrame(value)
            status = next((c for c in ("passed", "ok", "met") if c in frame), None)
            if status:
                frame[status] = frame[status].map(lambda v: "passed" if v else "failed")
                st.dataframe(
                    ui.styled_health(frame, status, VERDICT), hide_index=True, width="stretch"
                )
            else:
                st.dataframe(frame, hide_index=True, width="stretch")
        elif isinstance(value, dict):
            st.markdown(f"**{name.replace('_', ' ')}**")
            flat = pd.DataFrame(
                [{"measure": k.replace("_", " "), "value": str(v)} for k, v in value.items()]
            )
            st.dataframe(flat, hide_index=True, width="stretch")
        elif isinstance(value, str):
            st.markdown(f"**{name.replace('_', ' ')}:** {value}")
    with st.popover("Raw scorecard", icon=":material/data_object:", key=f"{key}_raw"):
        st.json(scorecard, expanded=False)


def _number(value: float, name: str = "") -> str:
    if name.endswith(("share", "rate", "ratio")) and 0 <= value <= 1:
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


if __name__ == "__main__":
    render()
