"""Calls: the newest calls as they happen; pick one to see its waterfall and transcript."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data, fmt, ui
from app.dashboard.waterfall import attempt_rows, waterfall_figure

__all__ = ["render"]

SELECTED = "selected_call"
OUTCOME_WORDS = {
    "carry_on": "carry on",
    "use_cached_and_say_so": "cached, say so",
    "escalate": "escalate",
}
OUTCOME_HEALTH = {"carry on": "ok", "cached, say so": "warn", "escalate": "bad"}
FIELDS = (
    "contact",
    "accounts",
    "eligibility",
    "call_history",
    "loans",
    "orders",
    "holdings",
    "caller_flags",
)


def render() -> None:
    ui.header(
        "Calls",
        "The newest calls, live. Select a row to see how its lookup went: every step "
        "against every system, the attempts behind it, and what the caller said.",
    )
    limit = st.segmented_control(
        "Rows in the table",
        [100, 300, 500],
        default=300,
        key="calls_limit",
        required=True,
        help="Older calls stay in the service; the Load page aggregates them.",
    )

    @st.fragment(run_every=ui.live_every())
    def live() -> None:
        _calls(int(limit or 300))

    live()


def _calls(limit: int) -> None:
    fetched = data.read("integration", "/calls", limit=limit)
    if not fetched.ok:
        ui.explain(fetched, "The call list")
        return
    calls: list[dict[str, Any]] = fetched.data.get("calls", [])
    if not calls:
        st.info(
            "No call yet. Make one with `POST /calls` and the clean example caller, "
            '`{"phone": "+14155550101"}` (docs/example-callers.md), or start simulated '
            "traffic with `.venv/bin/switchboard simulate`."
        )
        return
    frame = _frame(calls)
    _kpis(frame, int(fetched.data.get("total", len(calls))))

    ids = list(frame["call id"])
    chosen = st.session_state.get(SELECTED)
    default = {"selection": {"rows": [ids.index(chosen)]}} if chosen in ids else None

    def picked() -> None:
        state = st.session_state.get(f"calls_table_{ids[0]}")
        rows = state.selection.rows if state is not None else []
        if rows:
            st.session_state[SELECTED] = ids[rows[0]]

    st.dataframe(  # type: ignore[call-overload]  # selection_default is a TypedDict there
        ui.styled_health(frame, "outcome", OUTCOME_HEALTH),
        hide_index=True,
        width="stretch",
        height=320,
        # A new key when new calls arrive: the selection follows the call, not the row number.
        key=f"calls_table_{ids[0]}",
        on_select=picked,
        selection_mode="single-row",
        selection_default=default,
        column_config={
            "latency": st.column_config.ProgressColumn(
                "latency",
                format="%.0f ms",
                min_value=0,
                max_value=max(800.0, frame["latency"].max()),
            ),
        },
    )
    _detail(chosen or ids[0], auto=chosen is None)


def _frame(calls: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for c in calls:
        outcome = OUTCOME_WORDS.get(c.get("recommendation", ""), c.get("recommendation", ""))
        rows.append(
            {
                "started": str(c.get("started_at", ""))[11:19],
                "phone": c.get("phone"),
                "customer": c.get("customer_id") or "unknown",
                "outcome": outcome,
                "latency": float(c.get("elapsed_ms") or 0.0),
                "degraded": ", ".join(c.get("degraded") or []) or "—",
                "call id": c.get("call_id"),
            }
        )
    return pd.DataFrame(rows)


def _kpis(frame: pd.DataFrame, total: int) -> None:
    n = len(frame)
    counts = frame["outcome"].value_counts()
    cols = st.columns(5)
    cols[0].metric("Calls in history", f"{total:,}", border=True)
    cols[1].metric(
        "Carry on", fmt.pct(counts.get("carry on", 0) / n), border=True, help=f"of the newest {n}"
    )
    cols[2].metric("On cached data", fmt.pct(counts.get("cached, say so", 0) / n), border=True)
    cols[3].metric("Escalated", fmt.pct(counts.get("escalate", 0) / n), border=True)
    cols[4].metric("Lookup p95", fmt.ms(float(frame["latency"].quantile(0.95))), border=True)


def _detail(call_id: str, *, auto: bool) -> None:
    record = data.read("integration", f"/calls/{call_id}")
    if not record.ok:
        if record.absent:  # gone (the service restarted, or it aged out): follow the newest
            st.session_state.pop(SELECTED, None)
        ui.explain(record, f"Call {call_id}")
        return
    call: dict[str, Any] = record.data
    view: dict[str, Any] = call.get("view") or {}
    rec = view.get("recommendation") or {}
    st.divider()
    st.subheader(f"Call {call_id}", anchor=False)
    outcome = OUTCOME_WORDS.get(rec.get("action", ""), rec.get("action", "?"))
    st.markdown(
        f"{ui.health_dot(OUTCOME_HEALTH.get(outcome, 'idle'), f'**{outcome}**')} — "
        f"{rec.get('reason', '')}  \n"
        f"Caller {call.get('phone')} · customer {view.get('customer_id') or 'unknown'} · "
        f"answered in {fmt.ms(view.get('elapsed_ms'))} of {fmt.ms(view.get('deadline_ms'))}"
        + (" · *the newest call; select a row to pin another*" if auto else "")
    )
    events = data.read("integration", "/events", call_id=call_id, limit=500)
    found = events.data.get("events", []) if events.ok else []
    st.markdown(
        "**Waterfall** — a bar per lookup step; colour says where its data came from "
        f"({ui.health_dot('ok', 'live')}, {ui.health_dot('warn', 'cached')}, "
        f"{ui.health_dot('bad', 'missing')})"
    )
    st.plotly_chart(
        waterfall_figure(
            view.get("steps") or [],
            found,
            deadline_ms=view.get("deadline_ms"),
            elapsed_ms=view.get("elapsed_ms"),
        ),
        config={"displayModeBar": False},
        key=f"waterfall_{call_id}",
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Where each field came from**")
        st.dataframe(
            ui.styled_health(_provenance(view), "health"), hide_index=True, width="stretch"
        )
    with right:
        _transcript(call)
    st.markdown("**Attempts**")
    if not events.ok:
        ui.explain(events, "The call's attempts")
    elif found:
        st.dataframe(pd.DataFrame(attempt_rows(found)), hide_index=True, width="stretch")
    else:
        st.caption("No attempt events for this call (they may have aged out of memory).")


def _provenance(view: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name in FIELDS:
        prov = (view.get(name) or {}).get("provenance") or {}
        status = prov.get("status", "missing")
        why = prov.get("reason") or ""
        if status == "cached" and prov.get("age_s") is not None:
            why = f"{why}, {fmt.age(prov['age_s'])} old".strip(", ")
        rows.append(
            {
                "field": name.replace("_", " "),
                "health": {"live": "healthy", "cached": "degraded"}.get(status, "failing"),
                "source": prov.get("system", ""),
                "as": status,
                "why": why or "—",
                "fault": prov.get("injected_fault") or "—",
            }
        )
    return pd.DataFrame(rows)


def _transcript(call: dict[str, Any]) -> None:
    st.markdown("**Transcript**")
    transcript = call.get("transcript")
    if not transcript:
        st.caption("No transcript for this call.")
        return
    if isinstance(transcript, str):
        st.text(transcript)
        return
    turns = transcript.get("turns", []) if isinstance(transcript, dict) else transcript
    with st.container(height=300):
        for turn in turns:
            if not isinstance(turn, dict):
                st.text(str(turn))
                continue
            who = str(turn.get("role") or turn.get("speaker") or "agent")
            text = str(turn.get("text") or turn.get("content") or "")
            is_agent = who in ("agent", "assistant", "bot")
            st.chat_message(
                "assistant" if is_agent else "user",
                avatar=":material/support_agent:" if is_agent else ":material/person:",
            ).markdown(f"**{who}** {text}")


if __name__ == "__main__":
    render()
