"""System map: which system owns what, which flows depend on it, and the blast radius of
any one system going down or slow (from the integration service's system map API)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, ui
from app.dashboard.sysmap import VERDICT_LEVEL, system_map_dot

__all__ = ["render"]


def render() -> None:
    ui.header(
        "System map",
        "Every flow and the systems it reads (solid) or writes (dashed), grouped by the team "
        "that owns them. Pick a system to see what breaks when it is down or slow, what the "
        "caller hears and who gets paged.",
    )
    the_map = data.read("integration", "/system-map")
    if not the_map.ok or not isinstance(the_map.data, dict):
        ui.explain(the_map, "The system map")
        return
    systems = sorted(the_map.data.get("systems", {}))
    left, right = st.columns([2, 1])
    chosen = left.selectbox("System", ["(none)", *systems], index=0, key="sysmap-system")
    condition = right.radio("If it is", ["down", "slow"], horizontal=True, key="sysmap-condition")
    blast = None
    if chosen != "(none)":
        fetched = data.read(
            "integration", "/system-map/blast-radius", system=chosen, condition=condition
        )
        if fetched.ok and isinstance(fetched.data, dict):
            blast = fetched.data
        else:
            ui.explain(fetched, "The blast radius")
    if blast is not None:
        _blast_table(chosen, condition, blast)
    st.graphviz_chart(
        system_map_dot(the_map.data, blast, None if chosen == "(none)" else chosen),
        use_container_width=True,
    )
    st.caption(
        "red fails · amber degrades · blue delayed (queued in the outbox) · green unaffected"
    )


def _blast_table(chosen: str, condition: str, blast: dict[str, Any]) -> None:
    st.subheader(f"If {chosen} is {condition}", anchor=False)
    st.markdown("**Who gets paged:** " + "; ".join(blast["paged"]))
    rows = [
        {
            "flow": f["flow"].replace("_", " "),
            "verdict": f["verdict"],
            "steps hit": "; ".join(f"{s['step']}: {s['why']}" for s in f["steps"]) or "—",
            "the caller hears": f["caller_hears"] or "—",
        }
        for f in blast["flows"]
    ]
    frame = pd.DataFrame(rows)
    st.dataframe(
        ui.styled_health(frame, "verdict", VERDICT_LEVEL),
        hide_index=True,
        use_container_width=True,
        height=ui.table_height(len(rows)),
    )


if __name__ == "__main__":
    render()
