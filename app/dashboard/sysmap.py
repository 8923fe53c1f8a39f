"""The system map as Graphviz DOT: the flows on the left, the systems they touch on the
right, grouped by owning team; with a system chosen, everything in its blast radius is
coloured by what happens to it (fails red, degrades amber, delayed grey-blue)."""

from __future__ import annotations

import html
from typing import Any

from app.dashboard.health import COLOURS

__all__ = ["VERDICT_LEVEL", "system_map_dot"]

VERDICT_LEVEL = {"fails": "bad", "degrades": "warn", "delayed": "idle", "unaffected": "ok"}
_DELAYED = ("#bbdefb", "#1565c0")


def _fill(verdict: str | None) -> tuple[str, str]:
    if verdict == "delayed":
        return _DELAYED
    if verdict is None:
        return ("#ffffff", "#90a4ae")
    return COLOURS[VERDICT_LEVEL[verdict]]


def _box(key: str, title: str, subtitle: str, verdict: str | None, *, bold: bool = False) -> str:
    fill, line = _fill(verdict)
    small = f'<font point-size="11" color="#546e7a">{html.escape(subtitle)}</font>'
    label = f"<b>{html.escape(title)}</b><br/>{small}"
    width = "3" if bold else "1.2"
    return (
        f'"{key}" [shape=box style="rounded,filled" fillcolor="{fill}" color="{line}" '
        f"penwidth={width} label=<{label}>];"
    )


def system_map_dot(
    the_map: dict[str, Any], blast: dict[str, Any] | None = None, chosen: str | None = None
) -> str:
    flow_verdicts = {f["flow"]: f["verdict"] for f in (blast or {}).get("flows", [])}
    hit_systems = {s["system"] for f in (blast or {}).get("flows", []) for s in f["steps"]}
    lines = [
        "digraph map {",
        "rankdir=LR; nodesep=0.06; ranksep=2.2;",
        'node [fontname="Helvetica" fontsize=14 margin="0.12,0.04"];',
        'edge [color="#90a4ae" penwidth=1.0 arrowsize=0.7];',
    ]
    lines.append(
        'subgraph cluster_flows { label="Flows"; style="dashed"; color="#b0bec5"; fontsize=12;'
    )
    for name, flow in the_map.get("flows", {}).items():
        per_hour = f"{flow.get('calls_per_hour', 0):,.0f} calls/h"
        lines.append(
            _box(
                f"flow:{name}",
                name.replace("_", " "),
                per_hour,
                flow_verdicts.get(name) if blast else "unaffected",
            )
        )
    lines.append("}")
    by_team: dict[str, list[str]] = {}
    for name, system in the_map.get("systems", {}).items():
        by_team.setdefault(system.get("owner", "?"), []).append(name)
    teams = the_map.get("teams", {})
    for team, systems in sorted(by_team.items()):
        title = teams.get(team, {}).get("name", team)
        lines.append(
            f'subgraph "cluster_{team}" {{ label="{html.escape(title)}"; '
            'style="rounded,dashed"; color="#cfd8dc"; fontsize=11; margin=4;'
        )
        for name in systems:
            entry = the_map["systems"][name]
            verdict = (
                None
                if not blast
                else (
                    "fails"
                    if name == chosen
                    else ("degrades" if name in hit_systems else "unaffected")
                )
            )
            lines.append(
                _box(f"sys:{name}", name, entry.get("kind", ""), verdict, bold=name == chosen)
            )
        lines.append("}")
    for name, flow in the_map.get("flows", {}).items():
        seen: set[tuple[str, str]] = set()
        for step in flow.get("steps", []):
            edge = (step["system"], step["mode"])
            if edge in seen:
                continue
            seen.add(edge)
            style = "solid" if step["mode"] == "read" else "dashed"
            lines.append(f'"flow:{name}" -> "sys:{step["system"]}" [style={style}];')
    lines.append("}")
    return "\n".join(lines)
