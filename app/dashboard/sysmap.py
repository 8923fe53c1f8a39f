"""The system map laid out in layers and drawn as SVG.

Left to right: callers and the voice agent; the integration layer's flows; any middleware
a flow goes through (a step whose ``path`` is not ``direct``); then the systems the flows
read during the call (sources) and write after it (destinations). Laid out here rather
than by Graphviz so the drawing has a known width (the dashboard's column at 1280 px),
exactly one label per edge, each label on its own line where the edge arrives, and the
edges leaving and arriving in the order of their other ends (few crossings).

With a system chosen, its blast radius is painted: the flows, steps and systems it hits,
coloured by what happens to them (fails, degrades, delayed); the rest fades. Without one,
each system may carry its live state from the dashboard's health model.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.dashboard.health import COLOURS  # the one palette of states
from app.dashboard.systems import display_name
from app.dashboard.systems import vendor as short_vendor

__all__ = [
    "VERDICT_LEVEL",
    "WIDTH",
    "Box",
    "Edge",
    "MapDrawing",
    "layout_map",
    "middleware_of",
    "verdict_colours",
]

WIDTH = 820  # the dashboard's main column at 1280 px with the sidebar open
VERDICT_LEVEL = {"fails": "bad", "degrades": "warn", "delayed": "idle", "unaffected": "ok"}
_WORST = {"unaffected": 0, "delayed": 1, "degrades": 2, "fails": 3}
_DELAYED = ("#bbdefb", "#1565c0")
_PLAIN = ("#ffffff", "#78909c")
_EDGE = "#78909c"
# Pixel sizes; the text is drawn at 1:1 in the 820 px column, so none is under 12 px.
_TITLE, _SMALL, _LABEL = 14.0, 12.0, 12.0
_PORT = 18.0  # vertical room per edge end: one label line
_GAP = 12.0  # between boxes in a column
_TOP = 34.0  # column headings above the boxes
_MODE_DASH = {"read": "", "write": "7 4", "automation": "2 4", "call": ""}


_NARROW = frozenset(" .,;:!|'il()[]/")


def _text_px(text: str, size: float, *, bold: bool = False) -> float:
    # A slightly generous width for sans-serif text, measured on DejaVu Sans (the widest
    # common default): capitals and m/w wide, punctuation and i/l narrow.
    em = sum(0.8 if c.isupper() or c in "mw" else 0.38 if c in _NARROW else 0.58 for c in text)
    return em * size * (1.12 if bold else 1.0)


def _wrap(text: str, px: float, size: float, *, bold: bool = False, lines: int = 2) -> list[str]:
    """Words into at most ``lines`` lines that fit ``px``; the last line may be shortened
    with an ellipsis (the full text is the box's tooltip)."""
    out: list[str] = []
    for word in text.split():
        if out and _text_px(f"{out[-1]} {word}", size, bold=bold) <= px:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    fitted = []
    for line in out:
        while len(line) > 1 and _text_px(line, size, bold=bold) > px:
            line = line[:-2].rstrip() + "…"
        fitted.append(line)
    return fitted or [""]


@dataclass(frozen=True)
class Box:
    key: str
    title: list[str]
    subtitle: list[str]
    x: float
    y: float
    w: float
    h: float
    fill: str = _PLAIN[0]
    line: str = _PLAIN[1]
    bold: bool = False
    faded: bool = False
    badge: str = ""  # a state word, drawn under the subtitle
    tip: str = ""

    @property
    def mid_y(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    mode: str  # read, write (outbox), automation (a CRM automation), call
    label: str
    tip: str
    start: tuple[float, float]
    end: tuple[float, float]
    colour: str = _EDGE
    width: float = 1.4
    faded: bool = False
    verdict: str | None = None
    via: tuple[float, float] | None = None  # a point to pass, clear of a box in between

    @property
    def bend_x(self) -> float:
        """Where the edge turns straight into its label and its end."""
        x0, x1 = self.start[0], self.end[0]
        return x1 - max(0.0, min(_text_px(self.label, _LABEL) + 14, (x1 - x0) * 0.6))

    def points(self, steps: int = 24) -> list[tuple[float, float]]:
        """Points along the edge (for checking what it passes through)."""
        (x0, y0), (x1, y1) = self.start, self.end
        legs = [((x0, y0), self.via), (self.via, (self.bend_x, y1))] if self.via else []
        legs = legs or [((x0, y0), (self.bend_x, y1))]
        out = []
        for a, b in legs:
            assert a is not None and b is not None
            out += _curve(a, b, steps)
        return [*out, (x1, y1)]

    @property
    def label_box(self) -> tuple[float, float, float, float]:
        """Where the label is drawn: x, y, width, height (right-aligned before the end)."""
        w = _text_px(self.label, _LABEL)
        x_end, y = self.end
        return (x_end - 8 - w, y - 4 - _LABEL, w, _LABEL + 2)


@dataclass(frozen=True)
class Heading:
    text: str
    x: float
    y: float
    w: float
    h: float = 0.0  # a frame around a column when above 0


@dataclass
class MapDrawing:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)

    def svg(self) -> str:
        return _svg(self)


# -- reading the map -------------------------------------------------------------------------


def _is_middleware(name: str, entry: Mapping[str, Any]) -> bool:
    kind = str(entry.get("kind", "")).lower()
    return any(w in kind or w in name.lower() for w in ("middleware", "ipaas", "esb"))


def middleware_of(step: Mapping[str, Any], systems: Mapping[str, Any]) -> str | None:
    """The system a step goes through, or None when its ``path`` is ``direct``.

    The step may name it (``gateway: NAME``, or a ``path`` that is a system's name);
    otherwise ``path: middleware`` means the map's one middleware system; failing that, a
    hop of that name is drawn even though the map does not describe it.
    """
    path = str(step.get("path") or "direct")
    if path == "direct":
        return None
    named = step.get("gateway") or step.get("middleware")
    if isinstance(named, str) and named in systems:
        return named
    if path in systems:
        return path
    gateways = [n for n, e in systems.items() if isinstance(e, Mapping) and _is_middleware(n, e)]
    return gateways[0] if len(gateways) == 1 else path


def _mode(step: Mapping[str, Any]) -> str:
    if step.get("mode") == "read":
        return "read"
    return "automation" if step.get("via") == "crm_automation" else "write"


@dataclass
class _Route:
    source: str
    target: str
    mode: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (flow, step)


def _routes(flows: Mapping[str, Any], systems: Mapping[str, Any]) -> list[_Route]:
    """One route per (from, to, mode); a middleware step makes two: flow -> hop -> system."""
    found: dict[tuple[str, str, str], _Route] = {}

    def add(source: str, target: str, mode: str, flow: str, step: str) -> None:
        route = found.setdefault((source, target, mode), _Route(source, target, mode))
        if (flow, step) not in route.steps:
            route.steps.append((flow, step))

    for flow_name, flow in flows.items():
        for step in flow.get("steps", []):
            mode, system = _mode(step), f"sys:{step['system']}"
            hop = middleware_of(step, systems)
            if hop is None or hop == step["system"]:
                add(f"flow:{flow_name}", system, mode, flow_name, step["name"])
            else:
                add(f"flow:{flow_name}", f"mw:{hop}", mode, flow_name, step["name"])
                add(f"mw:{hop}", system, mode, flow_name, step["name"])
    return list(found.values())


# -- colours -----------------------------------------------------------------------------------


def _level_colours(level: str | None) -> tuple[str, str]:
    if level is None:
        return _PLAIN
    word = _STATE_LEVEL.get(level, level)
    return COLOURS.get(word, _PLAIN)


# The health model's words for a state, whichever vocabulary it speaks.
_STATE_LEVEL = {"up": "ok", "degraded": "warn", "down": "bad", "unknown": "idle"}
_STATE_WORD = {"ok": "up", "warn": "degraded", "bad": "down", "idle": "unknown"}


def verdict_colours(verdict: str | None) -> tuple[str, str]:
    """(fill, accent) of a blast-radius verdict: the health model's palette, and blue for
    delayed (queued, not lost)."""
    if verdict is None:
        return _PLAIN
    if verdict == "delayed":
        return _DELAYED
    return _level_colours(VERDICT_LEVEL[verdict])


# -- layout ----------------------------------------------------------------------------------


@dataclass
class _Column:
    x: float
    w: float


def _columns(with_middleware: bool) -> dict[str, _Column]:
    # The layer's frame is 8 px wider each side than its flows' boxes. Between columns,
    # room for the curves and, before each box, the labels of the edges that arrive there.
    systems = _Column(WIDTH - 188, 188)
    if not with_middleware:
        return {"callers": _Column(0, 100), "layer": _Column(150, 180), "systems": systems}
    return {
        "callers": _Column(0, 90),
        "layer": _Column(130, 166),
        "middleware": _Column(410, 124),
        "systems": systems,
    }


def _box_height(title: list[str], subtitle: list[str], ports: int, badge: bool) -> float:
    text = 10 + 17 * len(title) + 15 * len([s for s in subtitle if s]) + (15 if badge else 0)
    return max(text + 6, _PORT * ports + 10, 44.0)


def _stack(order: Sequence[str], heights: Mapping[str, float], top: float) -> dict[str, float]:
    ys: dict[str, float] = {}
    y = top
    for key in order:
        ys[key] = y
        y += heights[key] + _GAP
    return ys


def _place_near(
    order: Sequence[str], heights: Mapping[str, float], wanted: Mapping[str, float], top: float
) -> dict[str, float]:
    """Each box centred on ``wanted`` where it can be, pushed down past the one above."""
    ys: dict[str, float] = {}
    floor = top
    for key in order:
        y = max(floor, wanted.get(key, floor) - heights[key] / 2)
        ys[key] = y
        floor = y + heights[key] + _GAP
    return ys


def _mean(values: Iterable[float], default: float) -> float:
    listed = list(values)
    return sum(listed) / len(listed) if listed else default


def layout_map(
    the_map: Mapping[str, Any],
    blast: Mapping[str, Any] | None = None,
    chosen: str | None = None,
    states: Mapping[str, str] | None = None,
) -> MapDrawing:
    """The map as boxes, edges and headings with their coordinates (no drawing yet).

    ``blast`` is ``GET /system-map/blast-radius`` for ``chosen``; ``states`` the health
    model's level per system (``ok``/``warn``/``bad``/``idle`` or ``up``/``degraded``/
    ``down``/``unknown``), shown when no blast radius is.
    """
    systems: Mapping[str, Any] = the_map.get("systems", {}) or {}
    flows: Mapping[str, Any] = the_map.get("flows", {}) or {}
    teams: Mapping[str, Any] = the_map.get("teams", {}) or {}
    routes = _routes(flows, systems)
    hops = list(dict.fromkeys(r.target for r in routes if r.target.startswith("mw:")))
    columns = _columns(bool(hops))
    blast_steps, flow_verdicts = _blast_index(blast)
    condition = str((blast or {}).get("condition", "down"))

    outgoing: dict[str, list[_Route]] = {}
    incoming: dict[str, list[_Route]] = {}
    for route in routes:
        outgoing.setdefault(route.source, []).append(route)
        incoming.setdefault(route.target, []).append(route)

    live = blast is None and bool(states)
    boxes: dict[str, Box] = {}
    heights: dict[str, float] = {}
    texts: dict[str, tuple[list[str], list[str], str, str]] = {}

    def prepare(
        key: str, title: str, subtitle: str, width: float, ports: int, badge: str, tip: str = ""
    ) -> None:
        t = _wrap(title, width - 16, _TITLE, bold=True)
        s = _wrap(subtitle, width - 16, _SMALL) if subtitle else []
        texts[key] = (t, s, badge, f"{title}: {tip}" if tip else title)
        # A line for the state word on every system while states are shown, so a system
        # changing state never moves the drawing.
        line = bool(badge) or (live and key.startswith(("sys:", "mw:")))
        heights[key] = _box_height(t, s, ports, line)

    # The layer's flows, in the map's order.
    flow_keys = [f"flow:{n}" for n in flows]
    for name, flow in flows.items():
        team = teams.get(flow.get("owner", ""), {}).get("name", flow.get("owner", ""))
        per_hour = f"{float(flow.get('calls_per_hour', 0) or 0):,.0f} calls/h"
        key = f"flow:{name}"
        prepare(
            key,
            name.replace("_", " "),
            per_hour,
            columns["layer"].w,
            len(outgoing.get(key, [])),
            "",
            f"{flow.get('description', '')} Owner: {team}. {per_hour}.",
        )
    flow_y = _stack(flow_keys, heights, _TOP + 26)
    centre = {k: flow_y[k] + heights[k] / 2 for k in flow_keys}

    # Middleware, each near the flows that go through it.
    for hop in hops:
        name = hop.removeprefix("mw:")
        entry = systems.get(name, {})
        prepare(
            hop,
            display_name(name) if name in systems else name.replace("_", " "),
            _vendor(name, entry) or "middleware",
            columns["middleware"].w,
            max(len(incoming.get(hop, [])), len(outgoing.get(hop, []))),
            _badge(name, states, blast),
            _system_tip(entry, teams),
        )
    if hops:
        wanted = {h: _mean((centre[r.source] for r in incoming.get(h, [])), _TOP) for h in hops}
        hops.sort(key=lambda h: wanted[h])
        hop_y = _place_near(hops, heights, wanted, _TOP)
        centre |= {h: hop_y[h] + heights[h] / 2 for h in hops}

    # Systems: sources (read by some flow), then destinations, then any no flow uses.
    hop_names = {h.removeprefix("mw:") for h in hops}
    used = {r.target for r in routes if r.target.startswith("sys:")}
    reads = {r.target for r in routes if r.mode == "read" and r.target.startswith("sys:")}
    groups = [
        ("Sources · read", [f"sys:{n}" for n in systems if f"sys:{n}" in reads]),
        (
            "Destinations · written",
            [f"sys:{n}" for n in systems if f"sys:{n}" in used - reads],
        ),
        (
            "In no flow yet",
            [f"sys:{n}" for n in systems if f"sys:{n}" not in used and n not in hop_names],
        ),
    ]
    for _, keys in groups:
        for key in keys:
            name = key.removeprefix("sys:")
            both = key in reads and any(r.mode != "read" for r in incoming.get(key, []))
            entry = systems.get(name, {})
            vendor = _vendor(name, entry)
            prepare(
                key,
                display_name(name),
                f"{vendor} · also written" if both and vendor else vendor,
                columns["systems"].w,
                len(incoming.get(key, [])),
                _badge(name, states, blast),
                _system_tip(entry, teams),
            )
    headings = [
        Heading("On the line", columns["callers"].x, 14, columns["callers"].w),
        Heading("Integration layer", columns["layer"].x - 8, 14, columns["layer"].w + 16),
    ]
    if hops:
        headings.append(Heading("Middleware", columns["middleware"].x, 14, columns["middleware"].w))
    y = _TOP
    for title, keys in groups:
        if not keys:
            continue
        headings.append(Heading(title, columns["systems"].x, y + 12, columns["systems"].w))
        y += 22
        wanted = {k: _mean((centre[r.source] for r in incoming.get(k, [])), 1e9) for k in keys}
        keys.sort(key=lambda k: wanted[k])
        placed = _stack(keys, heights, y)
        centre |= {k: placed[k] + heights[k] / 2 for k in keys}
        y = placed[keys[-1]] + heights[keys[-1]] + _GAP + 4
    systems_bottom = y

    # Callers and the agent, level with the middle of the flows.
    prepare("callers", "Callers", "on the phone", columns["callers"].w, 1, "")
    prepare("agent", "Voice agent", "Vapi · simulator", columns["callers"].w, 1, "")
    flows_bottom = max((flow_y[k] + heights[k] for k in flow_keys), default=_TOP + 60)
    middle = (_TOP + 26 + flows_bottom) / 2
    callers_y = max(_TOP + 10, middle - heights["callers"] - 20)
    agent_y = callers_y + heights["callers"] + 40

    positions: dict[str, tuple[float, float]] = {
        "callers": (columns["callers"].x, callers_y),
        "agent": (columns["callers"].x, agent_y),
    }
    positions |= {k: (columns["layer"].x, flow_y[k]) for k in flow_keys}
    for hop in hops:
        positions[hop] = (columns["middleware"].x, centre[hop] - heights[hop] / 2)
    for _, keys in groups:
        for key in keys:
            positions[key] = (columns["systems"].x, centre[key] - heights[key] / 2)

    widths = {k: columns["systems"].w for k in positions if k.startswith("sys:")}
    widths |= {k: columns["layer"].w for k in flow_keys}
    widths |= {h: columns["middleware"].w for h in hops}
    widths |= {"callers": columns["callers"].w, "agent": columns["callers"].w}

    for key, (x, y0) in positions.items():
        title_lines, subtitle_lines, badge, tip = texts[key]
        fill, line = _box_colours(key, blast, chosen, condition, flow_verdicts, blast_steps, states)
        faded = blast is not None and (fill, line) == _PLAIN and key != "callers" and key != "agent"
        boxes[key] = Box(
            key,
            title_lines,
            subtitle_lines,
            x,
            y0,
            widths[key],
            heights[key],
            fill,
            line,
            bold=chosen is not None and key in (f"sys:{chosen}", f"mw:{chosen}"),
            faded=faded,
            badge=badge,
            tip=tip,
        )

    edges = _edges(routes, boxes, blast_steps, blast is not None)
    agent, callers = boxes["agent"], boxes["callers"]
    edges.append(
        Edge(
            "callers",
            "agent",
            "call",
            "speak",
            "callers speak to the voice agent",
            (callers.x + callers.w / 2, callers.y + callers.h),
            (agent.x + agent.w / 2, agent.y),
        )
    )
    edges.append(
        Edge(
            "agent",
            "layer",
            "call",
            "API",
            "the agent calls the layer's API (token or Vapi secret)",
            (agent.x + agent.w, agent.mid_y),
            (columns["layer"].x - 8, agent.mid_y),
        )
    )
    layer_bottom = flows_bottom + 10
    headings.append(
        Heading(
            "",
            columns["layer"].x - 8,
            _TOP,
            columns["layer"].w + 16,
            layer_bottom - _TOP,
        )
    )
    height = max(
        systems_bottom,
        layer_bottom + 8,
        max((b.y + b.h for b in boxes.values()), default=0) + 8,
    )
    return MapDrawing(WIDTH, height, list(boxes.values()), edges, headings)


def _vendor(name: str, entry: Mapping[str, Any]) -> str:
    vendor = short_vendor(name) or str(entry.get("vendor") or entry.get("kind") or "")
    return vendor.split(" (")[0]


def _system_tip(entry: Mapping[str, Any], teams: Mapping[str, Any]) -> str:
    owner = entry.get("owner", "")
    team = teams.get(owner, {}).get("name", owner)
    return f"{entry.get('vendor', '')}; owned by {team}" if team else str(entry.get("vendor", ""))


def _badge(name: str, states: Mapping[str, str] | None, blast: Mapping[str, Any] | None) -> str:
    if blast is not None or not states or name not in states:
        return ""
    state = states[name]
    word = state if state in _STATE_LEVEL else _STATE_WORD.get(state, state)
    return "" if word == "unknown" else word  # grey says it; fourteen "unknown"s are noise


def _blast_index(
    blast: Mapping[str, Any] | None,
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str]]:
    steps: dict[tuple[str, str], dict[str, Any]] = {}
    verdicts: dict[str, str] = {}
    for impact in (blast or {}).get("flows", []):
        verdicts[impact["flow"]] = impact["verdict"]
        for step in impact.get("steps", []):
            steps[(impact["flow"], step["step"])] = step
    return steps, verdicts


def _worst(verdicts: Iterable[str]) -> str | None:
    return max(verdicts, key=lambda v: _WORST.get(v, 0), default=None)


def _box_colours(
    key: str,
    blast: Mapping[str, Any] | None,
    chosen: str | None,
    condition: str,
    flow_verdicts: Mapping[str, str],
    blast_steps: Mapping[tuple[str, str], Mapping[str, Any]],
    states: Mapping[str, str] | None,
) -> tuple[str, str]:
    kind, _, name = key.partition(":")
    if blast is None:
        if kind in ("sys", "mw") and states and name in states:
            return _level_colours(states[name])
        return _PLAIN
    if kind == "flow":
        verdict = flow_verdicts.get(name)
        return verdict_colours(verdict) if verdict and verdict != "unaffected" else _PLAIN
    if kind in ("sys", "mw"):
        if name == chosen:
            return verdict_colours("fails" if condition == "down" else "degrades")
        # Not broken itself: outlined in the colour of what happens to the steps there.
        hit = _worst(
            s["verdict"]
            for s in blast_steps.values()
            if s.get("system") == name and s.get("verdict") != "unaffected"
        )
        return (_PLAIN[0], verdict_colours(hit)[1]) if hit else _PLAIN
    return _PLAIN


def _edges(
    routes: Sequence[_Route],
    boxes: Mapping[str, Box],
    blast_steps: Mapping[tuple[str, str], Mapping[str, Any]],
    painted: bool,
) -> list[Edge]:
    # Each box's edge ends, ordered by where the other end is: no two edges of one box cross.
    out_order: dict[str, list[_Route]] = {}
    in_order: dict[str, list[_Route]] = {}
    for route in routes:
        out_order.setdefault(route.source, []).append(route)
        in_order.setdefault(route.target, []).append(route)
    for group in out_order.values():
        group.sort(key=lambda r: (boxes[r.target].mid_y, r.mode))
    for group in in_order.values():
        group.sort(key=lambda r: (boxes[r.source].mid_y, r.mode))

    def port(box: Box, index: int, count: int) -> float:
        # Spread over the box's side, a little low: each label sits above its line.
        return box.mid_y - _PORT * (count - 1) / 2 + _PORT * index + 4

    edges = []
    for route in routes:
        src, dst = boxes[route.source], boxes[route.target]
        outs, ins = out_order[route.source], in_order[route.target]
        y0 = port(src, outs.index(route), len(outs))
        y1 = port(dst, ins.index(route), len(ins))
        names = list(dict.fromkeys(step.replace("_", " ") for _, step in route.steps))
        label = ", ".join(names)
        if len(names) > 1 and _text_px(label, _LABEL) > (dst.x - src.x) * 0.8:
            label = f"{names[0]} +{len(names) - 1}"  # the rest in the edge's tooltip
        verdict = _worst(str(blast_steps[s]["verdict"]) for s in route.steps if s in blast_steps)
        hit = verdict is not None and verdict != "unaffected"
        colour = verdict_colours(verdict)[1] if hit else _EDGE
        tip = "; ".join(
            f"{flow.replace('_', ' ')}: {step.replace('_', ' ')}" for flow, step in route.steps
        )
        edges.append(
            Edge(
                route.source,
                route.target,
                route.mode,
                label,
                tip,
                (src.x + src.w, y0),
                (dst.x, y1),
                colour,
                2.6 if hit else 1.4,
                faded=painted and not hit,
                verdict=verdict if hit else None,
            )
        )
    return _around(edges, boxes)


def _curve(a: tuple[float, float], b: tuple[float, float], steps: int) -> list[tuple[float, float]]:
    """The S-curve from ``a`` to ``b`` that leaves and arrives level (as drawn)."""
    mid = (a[0] + b[0]) / 2
    out = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        x = u**3 * a[0] + 3 * u * u * t * mid + 3 * u * t * t * mid + t**3 * b[0]
        y = (u**3 + 3 * u * u * t) * a[1] + (3 * u * t * t + t**3) * b[1]
        out.append((x, y))
    return out


def _inside(point: tuple[float, float], box: Box, margin: float = 4.0) -> bool:
    x, y = point
    return box.x - margin <= x <= box.x + box.w + margin and (
        box.y - margin <= y <= box.y + box.h + margin
    )


def _around(edges: list[Edge], boxes: Mapping[str, Box]) -> list[Edge]:
    """Edges that would cross a middleware box they do not touch pass above or below it,
    a few pixels apart, so no line seems to go into a box it does not."""
    hops = [b for k, b in boxes.items() if k.startswith("mw:")]
    used: dict[tuple[str, str], int] = {}
    out = []
    for edge in edges:
        for box in hops:
            if box.key in (edge.source, edge.target) or not (
                edge.start[0] < box.x and box.x + box.w < edge.end[0]
            ):
                continue
            if not any(_inside(p, box) for p in edge.points()):
                continue
            level = (edge.start[1] + edge.end[1]) / 2
            side = "above" if level < box.mid_y else "below"
            n = used[(box.key, side)] = used.get((box.key, side), 0) + 1
            y = box.y - 4 - 5 * n if side == "above" else box.y + box.h + 4 + 5 * n
            edge = replace(edge, via=(box.x + box.w / 2, y))
        out.append(edge)
    return out


# -- drawing ---------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _svg(drawing: MapDrawing) -> str:
    w, h = drawing.width, drawing.height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sysmap" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="100%" style="max-width:{w:.0f}px;height:auto;display:block" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" role="img" '
        'aria-label="System map: callers, the integration layer, middleware and systems">',
        "<defs>",
    ]
    colours = {e.colour for e in drawing.edges}
    for colour in sorted(colours):
        ident = colour.lstrip("#")
        parts.append(
            f'<marker id="arrow-{ident}" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
            'orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    for heading in drawing.headings:
        if heading.h:
            parts.append(
                f'<rect class="frame" x="{heading.x:.1f}" y="{heading.y:.1f}" '
                f'width="{heading.w:.1f}" height="{heading.h:.1f}" rx="10" fill="#f5f7f8" '
                'stroke="#b0bec5" stroke-dasharray="5 4"/>'
            )
        if heading.text:
            parts.append(
                f'<text class="heading" x="{heading.x:.1f}" y="{heading.y:.1f}" '
                f'font-size="{_SMALL:.0f}" font-weight="600" fill="#455a64">'
                f"{_e(heading.text)}</text>"
            )
    # Faded edges first, so a painted blast radius is drawn on top of them.
    for edge in sorted(drawing.edges, key=lambda e: not e.faded):
        parts.append(_edge_svg(edge))
    for box in drawing.boxes:
        parts.append(_box_svg(box))
    # Labels last, over every line, each with a white halo.
    for edge in drawing.edges:
        parts.append(_label_svg(edge))
    parts.append("</svg>")
    return "".join(parts)


def _edge_svg(edge: Edge) -> str:
    (x0, y0), (x1, y1) = edge.start, edge.end
    dash = _MODE_DASH.get(edge.mode, "")
    opacity = 0.3 if edge.faded else 1.0
    if edge.mode == "call" and x0 == x1:
        d = f"M{x0:.1f},{y0:.1f} L{x1:.1f},{y1 - 2:.1f}"
    else:
        stops = [(x0, y0), *([edge.via] if edge.via else []), (edge.bend_x, y1)]
        d = f"M{x0:.1f},{y0:.1f}"
        for (ax, ay), (bx, by) in itertools.pairwise(stops):
            mid = (ax + bx) / 2
            d += f" C{mid:.1f},{ay:.1f} {mid:.1f},{by:.1f} {bx:.1f},{by:.1f}"
        d += f" L{x1 - 2:.1f},{y1:.1f}"
    return (
        f'<g class="edge" data-source="{_e(edge.source)}" data-target="{_e(edge.target)}" '
        f'data-mode="{edge.mode}" data-verdict="{_e(edge.verdict or "")}" '
        f'opacity="{opacity}"><title>{_e(edge.tip)}</title>'
        f'<path d="{d}" fill="none" stroke="{edge.colour}" stroke-width="{edge.width}" '
        + (f'stroke-dasharray="{dash}" ' if dash else "")
        + f'marker-end="url(#arrow-{edge.colour.lstrip("#")})"/></g>'
    )


def _label_svg(edge: Edge) -> str:
    x, y, w, _ = edge.label_box
    if edge.mode == "call" and edge.start[0] == edge.end[0]:
        x, anchor, y = edge.end[0] + 6, "start", (edge.start[1] + edge.end[1]) / 2 + 4
    else:
        x, anchor, y = x + w, "end", edge.end[1] - 5
    weight = ' font-weight="600"' if edge.verdict else ""
    colour = edge.colour if edge.verdict else "#37474f"
    opacity = 0.45 if edge.faded else 1.0
    return (
        f'<text class="edge-label" data-source="{_e(edge.source)}" '
        f'data-target="{_e(edge.target)}" data-mode="{edge.mode}" x="{x:.1f}" y="{y:.1f}" '
        f'text-anchor="{anchor}" font-size="{_LABEL:.0f}" fill="{colour}"{weight} '
        f'opacity="{opacity}" stroke="#ffffff" stroke-width="3.5" paint-order="stroke" '
        f'stroke-linejoin="round">{_e(edge.label)}</text>'
    )


def _box_svg(box: Box) -> str:
    opacity = 0.45 if box.faded else 1.0
    stroke = 3.0 if box.bold else 1.3
    lines = [
        f'<g class="node" data-key="{_e(box.key)}" opacity="{opacity}">',
        f"<title>{_e(box.tip)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
        f'rx="7" fill="{box.fill}" stroke="{box.line}" stroke-width="{stroke}"/>',
    ]
    text_h = 17 * len(box.title) + 15 * len([s for s in box.subtitle if s])
    text_h += 15 if box.badge else 0
    y = box.mid_y - text_h / 2 + 13
    for line in box.title:
        lines.append(
            f'<text x="{box.x + 8:.1f}" y="{y:.1f}" font-size="{_TITLE:.0f}" '
            f'font-weight="700" fill="#263238">{_e(line)}</text>'
        )
        y += 17
    for line in box.subtitle:
        if line:
            lines.append(
                f'<text x="{box.x + 8:.1f}" y="{y - 1:.1f}" font-size="{_SMALL:.0f}" '
                f'fill="#546e7a">{_e(line)}</text>'
            )
            y += 15
    if box.badge:
        lines.append(
            f'<text class="state" x="{box.x + 8:.1f}" y="{y - 1:.1f}" '
            f'font-size="{_SMALL:.0f}" font-weight="700" fill="{box.line}">'
            f"● {_e(box.badge)}</text>"
        )
    lines.append("</g>")
    return "".join(lines)
