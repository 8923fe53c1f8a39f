"""The flow map as Graphviz DOT: who calls whom, coloured by health, with the live rates.

Left to right: the voice agent, the integration layer, then the read path (the caller
lookup's sources, during the call) with the outbox under it, and the write path (the
outbox's targets, after the call) in the last column. A system on both sides
(the CRM, loans) appears in both, because the two paths fail and recover independently.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from app.dashboard import fmt
from app.dashboard.health import COLOURS, Health

__all__ = ["FlowNode", "flow_dot"]


@dataclass(frozen=True)
class FlowNode:
    key: str  # unique within the map
    title: str
    subtitle: str
    health: Health
    rate_per_s: float | None = None  # the flow into this node
    flow: str = ""  # what flows on the edge into it ("contact", "bookings")
    detail: str = ""  # one short line under the subtitle ("p95 12 ms")


def _label(node: FlowNode) -> str:
    accent = COLOURS[node.health.level][1]
    lines = [f'<b><font point-size="17">{html.escape(node.title)}</font></b>']
    if node.subtitle:
        lines.append(f'<font point-size="13" color="#546e7a">{html.escape(node.subtitle)}</font>')
    if node.detail:
        lines.append(f'<font point-size="14">{html.escape(node.detail)}</font>')
    if node.health.level in ("warn", "bad"):
        for reason in node.health.reasons[:2]:  # a line each; the table below has them all
            short = reason if len(reason) <= 28 else reason[:27] + "…"
            lines.append(
                f'<font point-size="14" color="{accent}"><b>{html.escape(short)}</b></font>'
            )
    return "<" + "<br/>".join(lines) + ">"


def _node(node: FlowNode, *, shape: str = "box") -> str:
    fill, accent = COLOURS[node.health.level]
    return (
        f'  "{node.key}" [label={_label(node)}, shape={shape}, fillcolor="{fill}", '
        f'color="{accent}", tooltip="{html.escape(node.health.summary, quote=True)}"];'
    )


def _edge(src: str, dst: FlowNode, *, dashed: bool = False) -> str:
    accent = COLOURS[dst.health.level][1] if dst.health.level != "ok" else "#546e7a"
    rate = dst.rate_per_s
    width = 1.2 + min(3.0, (rate or 0.0) / 5.0)
    words = " ".join(p for p in (dst.flow, fmt.rate(rate) if rate is not None else "") if p)
    style = ', style="dashed"' if dashed or dst.health.level == "idle" else ""
    return (
        f'  "{src}" -> "{dst.key}" [label="{html.escape(words, quote=True)}", '
        f'color="{accent}", fontcolor="#37474f", penwidth={width:.1f}{style}];'
    )


def _cluster(name: str, title: str, nodes: list[FlowNode], colour: str) -> list[str]:
    lines = [
        f"  subgraph cluster_{name} {{",
        f'    label=<<b>{html.escape(title)}</b>>; labeljust="l"; style="rounded,dashed";',
        f'    color="{colour}"; fontcolor="#37474f"; fontsize=16; margin=10;',
    ]
    lines += ["  " + _node(n) for n in nodes]
    lines.append("  }")
    return lines


def flow_dot(
    agent: FlowNode,
    layer: FlowNode,
    reads: list[FlowNode],
    outbox: FlowNode | None,
    writes: list[FlowNode],
) -> str:
    """A DOT digraph; ``outbox`` None draws the write path as not running yet."""
    lines = [
        "digraph flow {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.12, ranksep=0.45,'
        ' fontname="Helvetica", newrank=true];',
        '  node [style="rounded,filled", fontname="Helvetica", penwidth=2, margin="0.14,0.06"];',
        '  edge [fontname="Helvetica", fontsize=14, arrowsize=0.7];',
        _node(agent, shape="box"),
        _node(layer, shape="box"),
    ]
    lines += _cluster("read", "Read path · during the call (caller lookup)", reads, "#90a4ae")
    if outbox is not None:
        lines.append(_node(outbox))
        lines += _cluster("write", "Write path · after the call (outbox)", writes, "#b0bec5")
    lines.append(_edge(agent.key, layer))
    lines += [_edge(layer.key, node) for node in reads]
    if outbox is not None:
        lines.append(_edge(layer.key, outbox))
        lines += [_edge(outbox.key, node) for node in writes]
    lines.append("}")
    return "\n".join(lines)
