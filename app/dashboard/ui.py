"""Pieces every page uses: its header, the live switch, messages for a missing service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app.dashboard import data
from app.dashboard.api import Fetched
from app.dashboard.health import COLOURS, STATE_LEVEL, STATES, HealthModel, Level, State
from app.dashboard.rates import RateWindow
from app.dashboard.systems import display_name

__all__ = [
    "HEALTH_WORDS",
    "LEGEND",
    "banner_text",
    "explain",
    "header",
    "health_banner",
    "health_dot",
    "live_every",
    "rate_window",
    "sidebar",
    "state_dot",
    "state_rows_style",
    "styled_health",
    "table_height",
]

# Plain words and a dot that every font has (emoji fonts are missing on many servers).
HEALTH_WORDS = {"ok": "healthy", "warn": "degraded", "bad": "failing", "idle": "no traffic"}
_MARKDOWN_COLOURS = {"ok": "green", "warn": "orange", "bad": "red", "idle": "gray"}
LEGEND = " · ".join(f":{_MARKDOWN_COLOURS[k]}[●] {w}" for k, w in HEALTH_WORDS.items())


def header(title: str, caption: str) -> None:
    st.title(title, anchor=False)
    st.caption(caption)


def explain(fetched: Fetched, what: str, *, coming: str | None = None) -> None:
    """Say why ``what`` cannot be shown: an endpoint not there yet is news, not an error."""
    if fetched.absent:
        st.info(
            f"**{what}** is not available yet: {fetched.error}." + (f" {coming}" if coming else "")
        )
    else:
        st.error(f"**{what}** cannot be shown: {fetched.error}.")


def health_dot(level: Level | str, text: str = "") -> str:
    """Markdown: a coloured dot and a word, for tables and captions."""
    colour = _MARKDOWN_COLOURS.get(level, "gray")
    return f":{colour}[●] {text or HEALTH_WORDS.get(level, level)}"


def state_dot(state: State | str, text: str = "") -> str:
    """Markdown: a state's coloured dot and its word (or ``text``)."""
    level = {str(k): v for k, v in STATE_LEVEL.items()}.get(str(state), "idle")
    return f":{_MARKDOWN_COLOURS[level]}[●] {text or state}"


def state_rows_style(frame: pd.DataFrame, column: str = "state") -> Any:
    """A table whose ``column`` holds states (up, down...), painted in the model's colours."""
    styled = styled_health(frame, column, {s: STATE_LEVEL[s] for s in STATES})
    return styled.hide(axis="index") if hasattr(styled, "hide") else styled


def banner_text(model: HealthModel) -> str:
    """Markdown: every system that is not up, by name, state and first reason; then counts."""
    if model.layer_error and not model.systems:
        return f":gray[●] **System health unknown**: {model.layer_error}"
    parts = []
    order = {"down": 0, "degraded": 1}
    troubled = sorted(
        (e for e in model.systems.values() if e.state in order),
        key=lambda e: (order[e.state], display_name(e.system)),
    )
    for entry in troubled:
        why = f" ({entry.reasons[0]})" if entry.reasons else ""
        parts.append(
            state_dot(entry.state, f"**{display_name(entry.system)} {entry.state}**") + why
        )
    for state in ("up", "unknown"):
        n = sum(1 for e in model.systems.values() if e.state == state)
        if n:
            parts.append(state_dot(state, f"{n} {state}"))
    return f"**Systems now** · {model.window_words}: " + " · ".join(parts)


def health_banner() -> None:
    """The health model in one line, redrawn live: shown above every page."""

    @st.fragment(run_every=live_every())
    def banner() -> None:
        with st.container(key="health_banner"):
            st.markdown(banner_text(data.health_model()))

    banner()


def styled_health(
    frame: pd.DataFrame, column: str = "health", levels: Mapping[str, str] | None = None
) -> Any:
    """A table whose ``column`` is painted in the map's colours.

    The column holds health words ("healthy", "failing"...), or any words that
    ``levels`` maps to a level ("escalate" -> "bad").
    """
    by_word = {HEALTH_WORDS[level]: level for level in COLOURS}
    by_word |= dict(levels or {})

    def paint(word: Any) -> str:
        level = by_word.get(str(word))
        if level not in COLOURS:
            return ""
        fill, accent = COLOURS[level]
        return f"background-color: {fill}; color: {accent}; font-weight: 600"

    return frame.style.map(paint, subset=[column]) if column in frame else frame


def table_height(rows: int, *, most: int = 16) -> int:
    """Pixels that show ``rows`` rows (up to ``most``, then the table scrolls)."""
    return 38 + 35 * max(1, min(rows, most))


def live_every() -> float | None:
    """The period of live fragments: None (no timer) while the viewer has paused."""
    if not st.session_state.get("live", True):
        return None
    return float(st.session_state.get("refresh_s", 2.0))


def rate_window(name: str, window_s: float = 15.0) -> RateWindow:
    """This browser session's readings of one set of counters."""
    key = f"_rates_{name}"
    window = st.session_state.get(key)
    if not isinstance(window, RateWindow):
        window = st.session_state[key] = RateWindow(window_s)
    return window


def sidebar(checks: dict[str, Fetched], urls: dict[str, str], default_refresh_s: float) -> None:
    with st.sidebar:
        st.toggle("Live updates", value=True, key="live", help="Pause to read a table calmly.")
        st.select_slider(
            "Refresh every",
            options=[1.0, 2.0, 5.0, 10.0],
            value=default_refresh_s if default_refresh_s in (1.0, 2.0, 5.0, 10.0) else 2.0,
            format_func=lambda s: f"{s:.0f} s",
            key="refresh_s",
        )
        st.divider()
        st.markdown("**Services**")
        for name, fetched in checks.items():
            dot = health_dot("ok" if fetched.ok else "bad", f"**{name}**")
            st.markdown(
                f"{dot}  \n{urls[name]}" + ("" if fetched.ok else "  \n:red[not answering]")
            )
