"""Write path: the outbox's depth, each target's deliveries, and the dead letters to replay."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.dashboard import data, fmt, ui
from app.dashboard.health import COLOURS, target_health
from app.dashboard.systems import WRITE_SYSTEMS, display_name

__all__ = ["render"]

STATUS_COLOURS = {
    "delivered": COLOURS["ok"][1],
    "pending": "#90a4ae",
    "in_flight": "#1e88e5",
    "dead": COLOURS["bad"][1],
}
ROWS_WITH_BUTTONS = 25


def render() -> None:
    ui.header(
        "Write path",
        "After a call its outcome is written to the systems of record through a durable "
        "outbox: committed with the call, delivered in the background with idempotency "
        "keys and retries, and parked as a dead letter when it cannot be delivered.",
    )

    probe = data.read("integration", "/outbox")
    if probe.absent:
        ui.explain(probe, "The outbox", coming="The durable write path lands with issue 5.")
        return

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _summary()

    live()

    @st.fragment(run_every=ui.live_every())
    def dead() -> None:
        _dead_letters()

    dead()
    _recent()


def _summary() -> None:
    outbox = data.read("integration", "/outbox")
    if not outbox.ok:
        ui.explain(outbox, "The outbox", coming="The durable write path lands with issue 5.")
        return
    box: dict[str, Any] = outbox.data
    latency = box.get("delivery_latency_ms") or {}
    backlog = int(box.get("pending") or 0) + int(box.get("in_flight") or 0)
    cols = st.columns(4)
    cols[0].metric(
        "Backlog",
        f"{backlog:,}",
        border=True,
        help=f"{int(box.get('in_flight') or 0):,} of them being delivered now",
    )
    cols[1].metric("Delivered", f"{int(box.get('delivered') or 0):,}", border=True)
    cols[2].metric("Dead letters", f"{int(box.get('dead') or 0):,}", border=True)
    cols[3].metric("Oldest pending", fmt.age(box.get("oldest_pending_age_s")), border=True)
    st.caption(
        f"Delivery latency p50 {fmt.ms(latency.get('p50'))} · p95 {fmt.ms(latency.get('p95'))}"
        f" · {_number(box.get('attempts_per_delivery'))} attempts per delivery"
    )

    systems: dict[str, Any] = box.get("systems") or {}
    names = [s for s in WRITE_SYSTEMS if s in systems] + sorted(set(systems) - set(WRITE_SYSTEMS))
    if not names:
        st.info("No effect has been written yet: end a call with `POST /calls/{id}/end`.")
        return
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Deliveries per system**")
        st.plotly_chart(_bars(names, systems), config={"displayModeBar": False}, key="outbox_bars")
    with right:
        st.markdown("**Targets**")
        rows = []
        for s in names:
            entry = systems[s] or {}
            breaker = entry.get("breaker")
            state = breaker.get("state") if isinstance(breaker, dict) else breaker
            health = target_health(entry)
            rows.append(
                {
                    "health": ui.HEALTH_WORDS[health.level],
                    "system": display_name(s),
                    "breaker": str(state or "—").replace("_", "-"),
                    "backlog": int(entry.get("pending") or 0) + int(entry.get("in_flight") or 0),
                    "dead": int(entry.get("dead") or 0),
                    "oldest": fmt.age(entry.get("oldest_pending_age_s")),
                }
            )
        st.dataframe(
            ui.styled_health(pd.DataFrame(rows)),
            hide_index=True,
            width="stretch",
            height=ui.table_height(len(rows)),
        )


def _number(value: Any) -> str:
    return f"{float(value):.2f}" if isinstance(value, int | float) else "—"


def _bars(names: list[str], systems: dict[str, Any]) -> go.Figure:
    figure = go.Figure()
    labels = [display_name(s) for s in names]
    for status, colour in STATUS_COLOURS.items():
        figure.add_bar(
            y=labels,
            x=[int((systems[s] or {}).get(status) or 0) for s in names],
            name=status.replace("_", " "),
            orientation="h",
            marker_color=colour,
        )
    figure.update_layout(
        barmode="stack",
        height=100 + 34 * len(names),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        # Above the bars: below them, the legend ran into the axis title.
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        yaxis={"autorange": "reversed"},
        xaxis={"title": "effects"},
    )
    return figure


def _dead_letters() -> None:
    st.subheader("Dead letters", anchor=False)
    dead = data.read("integration", "/outbox/dead", limit=200)
    if not dead.ok:
        ui.explain(dead, "The dead letters")
        return
    effects: list[dict[str, Any]] = dead.data.get("effects", [])
    if not effects:
        st.success("No dead letters: every effect was delivered or is still being retried.")
        return
    by_system: dict[str, int] = {}
    for e in effects:
        by_system[e.get("system", "?")] = by_system.get(e.get("system", "?"), 0) + 1
    st.caption("Replay puts a dead effect back in the queue (and the effects that waited on it).")
    buttons = st.columns(max(len(by_system), 1))
    for col, (system, n) in zip(buttons, sorted(by_system.items()), strict=False):
        if col.button(
            f"Replay {n} for {display_name(system)}",
            key=f"replay_system_{system}",
            icon=":material/replay:",
            width="stretch",
        ):
            done = data.write(
                "integration", "POST", "/outbox/dead/replay", params={"system": system}
            )
            _toast(done, f"{display_name(system)}")
    widths = [1, 2, 2, 3, 1, 3, 4, 2]
    head = st.columns(widths)
    for col, title in zip(
        head, ("id", "call", "system", "kind", "tries", "why", "last error", ""), strict=True
    ):
        if title:
            col.markdown(f"**{title}**")
    for e in effects[:ROWS_WITH_BUTTONS]:
        row = st.columns(widths, vertical_alignment="center")
        row[0].write(str(e.get("id")))
        row[1].write("…" + str(e.get("call_id", ""))[-6:])
        row[2].write(display_name(str(e.get("system", ""))))
        row[3].write(str(e.get("kind", "")))
        row[4].write(str(e.get("attempts", "")))
        row[5].write(str(e.get("dead_reason") or "—").replace("_", " "))
        row[6].write(str(e.get("last_error") or "—")[:120])
        if row[7].button("Replay", key=f"replay_{e.get('id')}", width="stretch"):
            done = data.write("integration", "POST", f"/outbox/dead/{e.get('id')}/replay")
            _toast(done, f"effect {e.get('id')}")
    if len(effects) > ROWS_WITH_BUTTONS:
        st.caption(f"{len(effects) - ROWS_WITH_BUTTONS} more: replay them per system above.")


def _toast(done: Any, what: str) -> None:
    if done.ok:
        replayed = (done.data or {}).get("replayed", [])
        st.toast(f"Replayed {len(replayed)} effect(s): {what}", icon=":material/replay:")
    else:
        st.toast(f"Replay failed: {done.error}", icon=":material/error:")


def _recent() -> None:
    with st.expander("Recent effects", expanded=False):
        status = st.segmented_control(
            "Status", ["pending", "delivered", "dead"], key="effects_status"
        )
        effects = data.read("integration", "/outbox/effects", status=status, limit=100)
        if not effects.ok:
            ui.explain(effects, "The recent effects")
            return
        rows = [
            {
                "id": e.get("id"),
                "call": e.get("call_id"),
                "effect": e.get("name"),
                "system": display_name(str(e.get("system", ""))),
                "status": e.get("status"),
                "attempts": e.get("attempts"),
                # A text's fate after Twilio took it, from its status callbacks.
                "carrier": e.get("delivery_status") or "",
                "age": fmt.age(e.get("age_s")),
                "last error": e.get("last_error") or "",
            }
            for e in effects.data.get("effects", [])
        ]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        else:
            st.caption("No effect with this status.")


if __name__ == "__main__":
    render()
