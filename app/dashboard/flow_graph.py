"""The flow map as Graphviz DOT: who calls whom, coloured by the health model.

Top to bottom (a wide page fits rows better than columns): the voice agent, the
integration layer, a row with the read path (the caller lookup's sources, during the
call), the outbox under it, and a row with the write path (its targets, after the call).
A system on both sides (the CRM, loans) appears in both, because the two paths fail and
recover independently; both nodes carry the system's one state.

Rates sit in each node rather than on its edge (edge labels widen every rank, and the
map must fit a 1280 px page). Edges that carry traffic get the SVG class ``flow`` and a
speed class (``flow-1`` slow to ``flow-3`` fast); ``FLOW_CSS`` makes their dashes march
from caller to callee, so calls in flight are seen moving. Font sizes are chosen so that,
drawn across a 1280 px wide page, no text is under 12 px.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from app.dashboard import fmt
from app.dashboard.health import COLOURS, Level

__all__ = ["FLOW_CSS", "FlowNode", "flow_dot", "speed_class"]

FLOW_CSS = """
<style>
@keyframes sb-flow { from { stroke-dashoffset: 24; } to { stroke-dashoffset: 0; } }
[data-testid="stGraphVizChart"] g.flow path {
  stroke-dasharray: 10 6; animation: sb-flow linear infinite;
}
[data-testid="stGraphVizChart"] g.flow-1 path { animation-duration: 2.4s; }
[data-testid="stGraphVizChart"] g.flow-2 path { animation-duration: 1.2s; }
[data-testid="stGraphVizChart"] g.flow-3 path { animation-duration: 0.6s; }
@media (prefers-reduced-motion: reduce) {
  [data-testid="stGraphVizChart"] g.flow path { animation: none; }
}
</style>
"""
_TITLE_PT = 17
_TEXT_PT = 15


@dataclass(frozen=True)
class FlowNode:
    key: str  # unique within the map
    title: str
    level: Level
    state: str = ""  # the word under the title ("down", "degraded")
    reason: str = ""  # why, in a few words (the tooltip)
    rate_per_s: float | None = None  # the flow into this node, beside its state
    flow: str = ""  # what flows on the edge into it ("contact", "bookings")
    detail: str = ""  # one short line ("p95 12 ms · 0% errors")


def speed_class(rate_per_s: float | None) -> str:
    """ "" for an idle edge, else ``flow flow-N`` (N: 1 under 1/s, 2 under 5/s, 3 above)."""
    if not rate_per_s or rate_per_s <= 0:
        return ""
    return "flow flow-" + ("1" if rate_per_s < 1 else "2" if rate_per_s < 5 else "3")


def _short(reason: str, most: int = 16) -> str:
    reason = reason.removeprefix("fault injected: ").removeprefix("read ").removeprefix("write ")
    return reason if len(reason) <= most else reason[: most - 1] + "…"


def _label(node: FlowNode) -> str:
    accent = COLOURS[node.level][1]
    lines = [f'<b><font point-size="{_TITLE_PT}">{html.escape(node.title)}</font></b>']
    words = node.state.upper() if node.level in ("warn", "bad") else node.state
    if node.rate_per_s:  # "up · 1.0/s": the rate beside the state, not on the edge
        words = f"{words} · {fmt.rate(node.rate_per_s)}" if words else fmt.rate(node.rate_per_s)
    if words:
        lines.append(
            f'<font point-size="{_TEXT_PT}" color="{accent}"><b>{html.escape(words)}</b></font>'
        )
    if node.level in ("warn", "bad") and node.reason:  # what a projector audience asks first
        why = html.escape(_short(node.reason))
        lines.append(f'<font point-size="{_TEXT_PT}" color="{accent}">{why}</font>')
    # Short lines: the widest line sets a node's width, the widest row of nodes the scale
    # the map is drawn at, and the tallest node each row's height.
    details = node.detail.split("\n") if node.detail else []
    for line in details:
        lines.append(f'<font point-size="{_TEXT_PT}">{html.escape(line)}</font>')
    return "<" + "<br/>".join(lines) + ">"


def _node(node: FlowNode) -> str:
    fill, accent = COLOURS[node.level]
    tip = f"{node.title}: {node.state}" + (f" ({node.reason})" if node.reason else "")
    return (
        f'  "{node.key}" [label={_label(node)}, fillcolor="{fill}", color="{accent}", '
        f'id="node_{node.key}", tooltip="{html.escape(tip, quote=True)}"];'
    )


def _edge(src: str, dst: FlowNode) -> str:
    # No label: labels widen every rank; the rate is in the node, what flows in its tooltip.
    accent = COLOURS[dst.level][1] if dst.level not in ("ok", "idle") else "#546e7a"
    rate = dst.rate_per_s
    width = 1.5 + min(3.0, (rate or 0.0) / 5.0)
    tip = " ".join(p for p in (dst.flow, fmt.rate(rate) if rate is not None else "") if p)
    moving = speed_class(rate)
    style = f', class="{moving}"' if moving else ', style="dotted"'
    return (
        f'  "{src}" -> "{dst.key}" [tooltip="{html.escape(tip, quote=True)}", '
        f'color="{accent}", penwidth={width:.1f}{style}];'
    )


def _cluster(name: str, title: str, nodes: list[FlowNode], colour: str) -> list[str]:
    lines = [
        f"  subgraph cluster_{name} {{",
        f'    label=<<b>{html.escape(title)}</b>>; labeljust="l"; style="rounded,dashed";',
        f'    color="{colour}"; fontcolor="#37474f"; fontsize={_TEXT_PT}; margin=8;',
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
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.08, ranksep=0.22,'
        ' fontname="Helvetica", newrank=true, ordering=out];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", penwidth=2,'
        ' margin="0.07,0.04"];',
        f'  edge [fontname="Helvetica", fontsize={_TEXT_PT}, arrowsize=0.8];',
        _node(agent),
        _node(layer),
    ]
    lines += _cluster("read", "Read path · during the call", reads, "#90a4ae")
    if outbox is not None:
        lines.append(_node(outbox))
        lines += _cluster("write", "Write path · after the call", writes, "#b0bec5")
    lines.append(_edge(agent.key, layer))
    lines += [_edge(layer.key, node) for node in reads]
    if outbox is not None:
        lines.append(_edge(layer.key, outbox))
        lines += [_edge(outbox.key, node) for node in writes]
        if reads:  # the outbox in a row of its own under the reads: the page stays narrow
            middle = reads[len(reads) // 2].key
            lines.append(f'  "{middle}" -> "{outbox.key}" [style=invis, weight=8];')
    lines.append("}")
    return "\n".join(lines)
