"""Flow map: every system a call touches, coloured by health, with the live call rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, fmt, promtext, ui
from app.dashboard.chaosform import describe_profile
from app.dashboard.flow_graph import FlowNode, flow_dot
from app.dashboard.health import Health, call_health, source_health, target_health
from app.dashboard.systems import (
    WRITE_SYSTEMS,
    display_name,
    read_systems,
    reads_what,
    vendor,
    writes_what,
)

__all__ = ["render"]


def render() -> None:
    ui.header(
        "Flow map",
        "Calls flow left to right: the agent asks the integration layer, which reads the "
        "caller's systems during the call and writes the outcome after it. "
        "Edges carry the live rate.",
    )

    st.markdown(ui.LEGEND)

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _draw()

    live()


def _dict(fetched: Any) -> dict[str, Any]:
    return fetched.data if fetched.ok and isinstance(fetched.data, dict) else {}


def _draw() -> None:
    systems = data.read("integration", "/systems")
    metrics = data.read_text("integration", "/metrics")
    calls = data.read("integration", "/calls", limit=200)
    outbox = data.read("integration", "/outbox")
    chaos, stats = data.chaos(), data.chaos_stats()

    if not systems.ok:
        ui.explain(systems, "The integration layer's health")
    if not chaos.ok:
        ui.explain(chaos, "The mocks' fault profile")

    samples = promtext.parse(metrics.data) if metrics.ok else []
    layer_rates = ui.rate_window("flow_layer")
    attempts = promtext.by_label(samples, "switchboard_source_attempts_total", "system")
    failed = {
        s: v - promtext.total(samples, "switchboard_source_attempts_total", system=s, outcome="ok")
        for s, v in attempts.items()
    }
    counters = {"lookups": promtext.total(samples, "switchboard_lookups_total")}
    counters |= {f"attempts:{s}": v for s, v in attempts.items()}
    counters |= {f"failed:{s}": v for s, v in failed.items()}
    if metrics.ok:
        layer_rates.add(metrics.fetched_at, counters)

    mock_rates = ui.rate_window("flow_mocks")
    mock_stats = _dict(stats).get("systems", {})
    if stats.ok:
        mock_rates.add(
            stats.fetched_at,
            {f"req:{s}": float(v.get("requests", 0)) for s, v in mock_stats.items()}
            | {f"fault:{s}": float(v.get("faulted", 0)) for s, v in mock_stats.items()},
        )
    faults = _dict(chaos).get("systems", {})

    box = _dict(outbox)
    box_systems = box.get("systems", {}) if isinstance(box.get("systems"), dict) else {}
    write_rates = ui.rate_window("flow_outbox")
    if outbox.ok:
        created = sum(float(box.get(k) or 0) for k in ("pending", "in_flight", "delivered", "dead"))
        write_rates.add(
            outbox.fetched_at,
            {"effects": created}
            | {f"delivered:{s}": float(v.get("delivered") or 0) for s, v in box_systems.items()},
        )

    recent = _recent_calls(calls.data.get("calls", []) if calls.ok else [])
    lookup_p95 = promtext.histogram_quantile(samples, "switchboard_lookup_latency_seconds", 0.95)
    total_calls = int(_dict(calls).get("total", 0))
    agent = FlowNode(
        "agent",
        "Voice agent",
        "callers on the line",
        Health("ok" if total_calls else "idle"),
        detail=f"{total_calls:,} calls in history",
    )
    layer = FlowNode(
        "layer",
        "Integration layer",
        "lookup · tools · outbox",
        call_health([c.get("recommendation", "") for c in recent])
        if systems.ok
        else Health("bad", ("not reachable",)),
        rate_per_s=layer_rates.rate("lookups"),
        flow="calls",
        detail=f"lookup p95 {fmt.ms(lookup_p95 * 1000 if lookup_p95 else None)}",
    )

    snapshots = _dict(systems)
    rows: list[dict[str, Any]] = []
    reads = []
    for s in read_systems(list(snapshots) or None):
        share = mock_rates.share(f"fault:{s}", f"req:{s}")
        health = source_health(snapshots.get(s), chaos_state=faults.get(s), fault_share=share)
        p95 = _p95(snapshots.get(s))
        reads.append(
            FlowNode(
                f"read_{s}",
                display_name(s),
                vendor(s),
                health,
                rate_per_s=layer_rates.rate(f"attempts:{s}"),
                flow=reads_what(s),
                detail=f"p95 {fmt.ms(p95)}" if p95 is not None else "",
            )
        )
        rows.append(_row(s, "read", health, layer_rates.rate(f"attempts:{s}"), p95, faults.get(s)))

    if outbox.ok:
        pending, dead = int(box.get("pending") or 0), int(box.get("dead") or 0)
        box_health = Health("ok" if box.get("delivered") or pending else "idle")
        if dead:
            box_health = box_health.worse("warn", f"{dead} dead letters")
        outbox_node = FlowNode(
            "outbox",
            "Outbox",
            "dispatcher",
            box_health,
            rate_per_s=write_rates.rate("effects"),
            flow="effects",
            detail=f"{pending:,} pending · {dead:,} dead",
        )
    else:
        outbox_node = FlowNode("outbox", "Outbox", "write path not running yet", Health("idle"))
    writes = []
    for s in WRITE_SYSTEMS:
        share = mock_rates.share(f"fault:{s}", f"req:{s}")
        health = target_health(box_systems.get(s), chaos_state=faults.get(s), fault_share=share)
        rate = write_rates.rate(f"delivered:{s}")
        writes.append(
            FlowNode(
                f"write_{s}",
                display_name(s),
                vendor(s),
                health,
                rate_per_s=rate,
                flow=writes_what(s),
            )
        )
        rows.append(_row(s, "write", health, rate, None, faults.get(s)))

    st.graphviz_chart(flow_dot(agent, layer, reads, outbox_node, writes), width="stretch")
    st.subheader("Systems at a glance", anchor=False)
    st.dataframe(
        ui.styled_health(pd.DataFrame(rows)),
        hide_index=True,
        width="stretch",
        height=ui.table_height(len(rows), most=len(rows)),
    )


def _recent_calls(calls: list[dict[str, Any]], window_s: float = 60.0) -> list[dict[str, Any]]:
    since = datetime.now(UTC) - timedelta(seconds=window_s)
    out = []
    for call in calls:
        try:
            if datetime.fromisoformat(call["started_at"]) >= since:
                out.append(call)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _p95(snapshot: dict[str, Any] | None) -> float | None:
    latency = (snapshot or {}).get("latency") or {}
    values = [
        op.get("p95_ms") for op in latency.values() if isinstance(op, dict) and op.get("samples")
    ]
    return max((float(v) for v in values if v is not None), default=None)


def _row(
    system: str, path: str, health: Health, rate: float | None, p95: float | None, fault: Any
) -> dict[str, Any]:
    fault = fault if isinstance(fault, dict) else {}
    return {
        "health": ui.HEALTH_WORDS[health.level],
        "system": display_name(system),
        "path": path,
        "status": health.summary,
        "rate": fmt.rate(rate) if rate is not None else "—",
        "p95": fmt.ms(p95),
        "injected faults": describe_profile(
            fault.get("profile"), down_now=bool(fault.get("down_now"))
        ),
    }


if __name__ == "__main__":
    render()
