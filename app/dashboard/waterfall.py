"""One call's waterfall: a bar per lookup step, on the call's own millisecond clock.

The steps come from the caller view (exact offsets from the lookup's start); the
attempts behind each step come from ``GET /events?call_id=`` and are summarised on the
bar and in its hover (attempt, outcome, latency, injected fault). Colour is provenance:
live green, cached amber, missing red. The dashed line is the lookup's deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from app.dashboard import fmt
from app.dashboard.health import COLOURS

__all__ = ["PROVENANCE_COLOURS", "attempt_rows", "waterfall_figure"]

PROVENANCE_COLOURS = {
    "live": COLOURS["ok"][1],
    "cached": "#f9a825",
    "missing": COLOURS["bad"][1],
}


def attempt_rows(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The attempts, cache answers and deliveries of one call, as table rows in order."""
    rows = []
    for e in events:
        if e.get("kind") == "lookup":
            continue
        rows.append(
            {
                "time": str(e.get("at", ""))[11:23],
                "kind": e.get("kind"),
                "system": e.get("system"),
                "operation": e.get("operation"),
                "attempt": e.get("attempt"),
                "outcome": e.get("outcome"),
                "latency ms": round(float(e["latency_ms"]), 1) if e.get("latency_ms") else None,
                "status": e.get("status"),
                "injected fault": e.get("injected_fault") or "",
                "breaker": e.get("breaker_state") or "",
                "hedge": bool(e.get("hedge")),
                "cache hit": bool(e.get("cache_hit")),
            }
        )
    return rows


def _attempts_by_system(events: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e.get("kind") != "attempt" or not e.get("system"):
            continue
        fault = f", injected {e['injected_fault']}" if e.get("injected_fault") else ""
        hedge = " (hedge)" if e.get("hedge") else ""
        out[str(e["system"])].append(
            f"#{e.get('attempt') or '?'}{hedge}: {e.get('outcome')} in "
            f"{fmt.ms(e.get('latency_ms'))}{fault}"
        )
    return out


def waterfall_figure(
    steps: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    deadline_ms: float | None,
    elapsed_ms: float | None,
) -> go.Figure:
    attempts = _attempts_by_system(events)
    ordered = sorted(steps, key=lambda s: float(s.get("started_ms") or 0.0))
    labels, starts, widths, colours, texts, hovers = [], [], [], [], [], []
    for step in ordered:
        status = str(step.get("status", "missing"))
        system = str(step.get("system", ""))
        n = int(step.get("attempts") or 0)
        bits = [status if status == "live" else f"{status} ({step.get('reason') or '?'})"]
        bits.append(f"{n} attempt{'s' if n != 1 else ''}")
        if step.get("injected_fault"):
            bits.append(f"fault {step['injected_fault']}")
        labels.append(f"{step.get('step')} · {system}")
        starts.append(float(step.get("started_ms") or 0.0))
        widths.append(max(float(step.get("duration_ms") or 0.0), 0.05))
        colours.append(PROVENANCE_COLOURS.get(status, "#90a4ae"))
        texts.append(" · ".join(bits))
        detail = "<br>".join(attempts.get(system, [])) or "no attempt recorded"
        hovers.append(
            f"<b>{labels[-1]}</b><br>starts at {fmt.ms(starts[-1])}, "
            f"takes {fmt.ms(widths[-1])}<br>{texts[-1]}<br>{detail}"
        )
    figure = go.Figure(
        go.Bar(
            y=labels,
            x=widths,
            base=starts,
            orientation="h",
            marker={"color": colours, "line": {"width": 0}},
            text=texts,
            textposition="outside",
            cliponaxis=False,
            hovertext=hovers,
            hoverinfo="text",
        )
    )
    ends = [s + w for s, w in zip(starts, widths, strict=True)]
    right = max([*ends, elapsed_ms or 0.0, 1.0])
    # A deadline far beyond the call would squash every bar to a sliver: name it instead.
    if deadline_ms and deadline_ms <= right * 2:
        right = max(right, deadline_ms)
        figure.add_vline(
            x=deadline_ms,
            line={"dash": "dash", "color": COLOURS["bad"][1]},
            annotation_text=f"deadline {fmt.ms(deadline_ms)}",
            annotation_position="top right",
        )
    if elapsed_ms:
        figure.add_vline(
            x=elapsed_ms,
            line={"dash": "dot", "color": "#455a64"},
            annotation_text=f"answered {fmt.ms(elapsed_ms)}",
            annotation_position="top left",
        )
    figure.update_layout(
        height=90 + 44 * max(len(labels), 1),
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        xaxis={"title": "ms since the call started", "range": [0, right * 1.6]},
        yaxis={"autorange": "reversed"},
        showlegend=False,
        bargap=0.35,
    )
    return figure
