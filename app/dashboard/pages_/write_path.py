"""Write path: the outbox's depth, each target's deliveries, and the dead letters to replay."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, fmt, ui
from app.dashboard.systems import WRITE_SYSTEMS, display_name

__all__ = ["render"]

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

    _destinations()


def _destinations() -> None:
    model = data.health_model()
    st.subheader("Destinations", anchor=False)
    st.caption(
        f"State, delivery attempts and errors over the {model.window_words} (the health model "
        "every page shows); the queue counts are now. Retrying: effects whose delivery "
        "failed and that wait for their next try."
    )
    rows = []
    waiting: list[tuple[str, str, int]] = []  # destinations with dead letters
    for s in WRITE_SYSTEMS:
        entry = model.of(s)
        box, side = entry.outbox, entry.write
        if box and box.dead:
            waiting.append((display_name(s), s, box.dead))
        rows.append(
            {
                "state": entry.state,
                "destination": display_name(s),
                "why": "; ".join(entry.reasons[:2]) or "—",
                "pending": box.pending + box.in_flight if box else 0,
                "retrying": box.retrying if box else 0,
                "dead": box.dead if box else 0,
                "oldest pending": fmt.age(box.oldest_pending_age_s if box else None),
                "breaker": (side.breaker if side else "—").replace("_", "-"),
                "attempts": (
                    f"{fmt.rate(side.per_s)} · {fmt.pct(side.error_rate)} errors"
                    if side and side.attempts
                    else "no traffic"
                ),
            }
        )
    st.table(ui.state_rows_style(pd.DataFrame(rows)))
    if not waiting:
        return
    st.caption(
        "Replay puts a destination's dead letters back in the queue (and the effects that "
        "waited on them)."
    )
    buttons = st.columns(max(len(waiting), 3))
    for col, (name, system, n) in zip(buttons, waiting, strict=False):
        if col.button(
            f"Replay {n} for {name}",
            key=f"replay_system_{system}",
            icon=":material/replay:",
            width="stretch",
        ):
            done = data.write(
                "integration", "POST", "/outbox/dead/replay", params={"system": system}
            )
            _toast(done, name)


def _number(value: Any) -> str:
    return f"{float(value):.2f}" if isinstance(value, int | float) else "—"


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
    st.caption("Replay one effect here, or every dead letter of a destination above.")
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
