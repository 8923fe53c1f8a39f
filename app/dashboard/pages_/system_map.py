"""System map: every flow, the systems it reads and writes (through middleware where it
goes through one), each system's live state, and the blast radius of any one system being
down or slow (the integration service's ``GET /system-map`` and its blast radius)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, ui
from app.dashboard.health import system_states
from app.dashboard.sysmap import VERDICT_LEVEL, layout_map, verdict_colours
from app.dashboard.systems import display_name

__all__ = ["render"]

NONE = "(none)"
_LINES = (
    "solid: read during the call · dashed: written after it, through the outbox · "
    "dotted: written by a CRM automation"
)


def render() -> None:
    ui.header(
        "System map",
        "Callers reach the integration layer; each of its flows reads the caller's systems "
        "during the call and writes the outcome after it, through middleware where the map "
        "says so. Pick a system to see what breaks when it is down or slow, what the caller "
        "hears and who gets paged.",
    )
    the_map = data.read("integration", "/system-map")
    if not the_map.ok or not isinstance(the_map.data, dict):
        ui.explain(the_map, "The system map")
        return
    systems = sorted(the_map.data.get("systems", {}))
    left, right = st.columns([2, 1])
    chosen = left.selectbox(
        "Blast radius of",
        [NONE, *systems],
        index=0,
        format_func=lambda s: s if s == NONE else f"{display_name(s)} ({s})",
        key="sysmap-system",
    )
    condition = right.radio("If it is", ["down", "slow"], horizontal=True, key="sysmap-condition")
    blast = None
    if chosen != NONE:
        fetched = data.read(
            "integration", "/system-map/blast-radius", system=chosen, condition=condition
        )
        if fetched.ok and isinstance(fetched.data, dict):
            blast = fetched.data
        else:
            ui.explain(fetched, "The blast radius")
    if blast is not None:
        _blast_summary(chosen, condition, blast)

    @st.fragment(run_every=None if blast is not None else ui.live_every())
    def drawing() -> None:
        _draw(the_map.data, blast, None if chosen == NONE else chosen)

    drawing()
    if blast is not None:
        _blast_table(blast)


def _draw(the_map: dict[str, Any], blast: dict[str, Any] | None, chosen: str | None) -> None:
    states: dict[str, str] = {}
    if blast is None:
        model = data.health_model()
        states = dict(system_states(model))
        st.markdown(
            f"Systems coloured by their state over the {model.window_words}: "
            + " · ".join(ui.state_dot(s) for s in ("up", "degraded", "down", "unknown"))
        )
    else:
        st.markdown(
            f"{ui.health_dot('bad', 'fails')} · {ui.health_dot('warn', 'degrades')} · "
            ":blue[●] delayed (queued in the outbox) · unaffected parts faded"
        )
    drawing = layout_map(the_map, blast, chosen, states)
    # Markdown, not st.html: st.html's sanitiser drops an SVG that has markers and titles.
    st.markdown(drawing.svg(), unsafe_allow_html=True)
    st.caption(_LINES + ". Hover a box or an edge for its details.")


def _blast_summary(chosen: str, condition: str, blast: dict[str, Any]) -> None:
    verdicts = Counter(f["verdict"] for f in blast.get("flows", []))
    said = [
        f"{verdicts[v]} {'flow' if verdicts[v] == 1 else 'flows'} {v.replace('fails', 'fail')}"
        for v in ("fails", "degrades", "delayed")
        if verdicts[v]
    ]
    st.markdown(
        f"**If {display_name(chosen)} is {condition}:** "
        + (", ".join(said) if said else "no flow is affected")
        + f".  \n**Who gets paged:** {'; '.join(blast.get('paged', []))}"
    )


def _blast_table(blast: dict[str, Any]) -> None:
    st.subheader("Flow by flow", anchor=False)
    rows = [
        {
            "flow": f["flow"].replace("_", " "),
            "verdict": f["verdict"],
            "steps hit": "; ".join(
                f"{s['step'].replace('_', ' ')} ({s['system']}): {s['why']}" for s in f["steps"]
            )
            or "—",
            "the caller hears": f.get("caller_hears") or "—",
        }
        for f in blast.get("flows", [])
    ]
    # A static table wraps its text: nothing the caller hears is cut off.
    st.table(pd.DataFrame(rows).style.map(_paint, subset=["verdict"]), hide_index=True)


def _paint(verdict: Any) -> str:
    """The map's colour for a verdict, so the table and the drawing agree."""
    fill, accent = verdict_colours(str(verdict)) if verdict in VERDICT_LEVEL else ("", "")
    return f"background-color: {fill}; color: {accent}; font-weight: 600" if fill else ""


if __name__ == "__main__":
    render()
