"""Flow map: every system a call touches, coloured by the health model, with live rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, fmt, ui
from app.dashboard.flow_graph import FLOW_CSS, FlowNode, flow_dot
from app.dashboard.health import HealthModel, Level, Side, SystemHealth
from app.dashboard.systems import (
    WRITE_SYSTEMS,
    display_name,
    read_systems,
    reads_what,
    writes_what,
)

__all__ = ["embed", "render"]


def render() -> None:
    ui.header(
        "Flow map",
        "The agent asks the layer, which reads the caller's systems during the call and "
        "writes the outcome after it; moving dashes are calls in flight. "
        f"{ui.state_dot('up')} · {ui.state_dot('degraded')} · {ui.state_dot('down')} · "
        f"{ui.state_dot('unknown')}: numbers and states over the last {data.WINDOW_S:g} s, "
        "with the faults injected now and the breakers.",
    )
    st.markdown(FLOW_CSS, unsafe_allow_html=True)

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _draw()

    live()


def embed() -> None:
    """The live map alone (no title, no table), for a page that shows it beside its own."""
    st.markdown(FLOW_CSS, unsafe_allow_html=True)

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _draw(table=False)

    live()


def _draw(*, table: bool = True) -> None:
    model = data.health_model()
    calls = data.read("integration", "/calls", limit=300)
    if model.layer_error:
        st.error(f"**The integration layer's view** cannot be shown: {model.layer_error}.")
    recent = _recent_calls(calls.data.get("calls", []) if calls.ok else [], model.window_s)
    agent, layer = _front(recent, model, reachable=not model.layer_error)
    reads = [_read_node(model.of(s)) for s in read_systems(_sides(model, "read") or None)]
    writes = [_write_node(model.of(s)) for s in WRITE_SYSTEMS]
    st.graphviz_chart(flow_dot(agent, layer, reads, _outbox_node(model), writes), width="stretch")
    if table:
        st.subheader("Systems at a glance", anchor=False)
        st.table(ui.state_rows_style(_rows(model)))


def _sides(model: HealthModel, side: str) -> list[str]:
    return [name for name, entry in model.systems.items() if getattr(entry, side) is not None]


def _front(
    recent: list[dict[str, Any]], model: HealthModel, *, reachable: bool
) -> tuple[FlowNode, FlowNode]:
    rate = len(recent) / model.window_s
    agent = FlowNode(
        "agent",
        "Voice agent",
        "ok" if recent else "idle",
        "calling" if recent else "no calls",
        detail=f"{len(recent)} calls in {model.window_s:g} s",
    )
    elapsed = sorted(float(c.get("elapsed_ms") or 0.0) for c in recent)
    p95 = elapsed[max(0, int(len(elapsed) * 0.95 + 0.5) - 1)] if elapsed else None
    escalated = sum(1 for c in recent if c.get("recommendation") == "escalate")
    share = escalated / len(recent) if recent else None
    level: Level = "bad" if not reachable else "warn" if (share or 0) >= 0.05 else "ok"
    layer = FlowNode(
        "layer",
        "Integration layer",
        level if recent or not reachable else "idle",
        "not reachable" if not reachable else "answering",
        f"{fmt.pct(share)} escalated" if level == "warn" else "",
        rate_per_s=rate if recent else 0.0,
        flow="calls",
        detail=f"lookup p95 {fmt.ms(p95)}",
    )
    return agent, layer


def _numbers(side: Side | None) -> str:
    if side is None or not side.attempts:
        return ""
    return f"{fmt.pct(side.error_rate)} errors\np95 {fmt.ms(side.p95_ms)}"


def _cause(entry: SystemHealth) -> str:
    """The reason worth a line in the node: a fault or a breaker (the numbers are there)."""
    for reason in entry.reasons:
        if "fault injected" in reason or "outage" in reason or "breaker" in reason:
            return reason
    return ""


def _state_words(entry: SystemHealth, side: Side | None) -> str:
    idle = entry.state == "up" and (side is None or not side.attempts)
    return "up · idle" if idle else entry.state


def _read_node(entry: SystemHealth) -> FlowNode:
    side = entry.read
    return FlowNode(
        f"read_{entry.system}",
        display_name(entry.system),
        entry.level,
        _state_words(entry, side),
        _cause(entry),
        rate_per_s=side.per_s if side else 0.0,
        flow=reads_what(entry.system),
        detail=_numbers(side),
    )


def _write_node(entry: SystemHealth) -> FlowNode:
    side, box = entry.write, entry.outbox
    detail = _numbers(side)
    if box and (box.pending or box.in_flight or box.dead):
        detail = f"{box.pending + box.in_flight} queued\n{box.dead} dead"
    return FlowNode(
        f"write_{entry.system}",
        display_name(entry.system),
        entry.level,
        _state_words(entry, side),
        _cause(entry),
        rate_per_s=side.per_s if side else 0.0,
        flow=writes_what(entry.system),
        detail=detail,
    )


def _outbox_node(model: HealthModel) -> FlowNode | None:
    boxes = [e.outbox for e in model.systems.values() if e.outbox is not None]
    if not boxes:
        return None
    queued = sum(b.pending + b.in_flight for b in boxes)
    retrying, dead = sum(b.retrying for b in boxes), sum(b.dead for b in boxes)
    rate = sum(e.write.per_s for e in model.systems.values() if e.write is not None)
    return FlowNode(
        "outbox",
        "Outbox",
        "warn" if retrying or dead else "ok" if rate or queued else "idle",
        f"{retrying} retrying" if retrying else "delivering" if rate else "idle",
        rate_per_s=rate,
        flow="effects",
        detail=f"{queued:,} queued\n{dead:,} dead",
    )


def _side_text(side: Side | None, extra: str = "") -> str:
    if side is None:
        return "—"
    if not side.attempts:
        return "no traffic" + extra
    return (
        f"{fmt.rate(side.per_s)} · {fmt.pct(side.error_rate)} errors · "
        f"p50 {fmt.ms(side.p50_ms)} / p95 {fmt.ms(side.p95_ms)}{extra}"
    )


def _rows(model: HealthModel) -> pd.DataFrame:
    rows = []
    order = {"down": 0, "degraded": 1, "up": 2, "unknown": 3}
    for entry in sorted(model.systems.values(), key=lambda e: (order[e.state], e.system)):
        box = entry.outbox
        queued = (
            f" · {box.pending + box.in_flight} queued, {box.dead} dead"
            if box and (box.pending or box.in_flight or box.dead)
            else ""
        )
        rows.append(
            {
                "state": entry.state,
                "system": display_name(entry.system),
                "why": "; ".join(entry.reasons[:2]) or "—",
                "reads": _side_text(entry.read),
                "writes": _side_text(entry.write, queued),
                "breaker": entry.breakers,
            }
        )
    return pd.DataFrame(rows, columns=["state", "system", "why", "reads", "writes", "breaker"])


def _recent_calls(calls: list[dict[str, Any]], window_s: float) -> list[dict[str, Any]]:
    since = datetime.now(UTC) - timedelta(seconds=window_s)
    out = []
    for call in calls:
        try:
            if datetime.fromisoformat(call["started_at"]) >= since:
                out.append(call)
        except (KeyError, TypeError, ValueError):
            continue
    return out


if __name__ == "__main__":
    render()
