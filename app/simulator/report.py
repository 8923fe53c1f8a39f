"""What a run looks like to a person: the live progress line, the summary table, a
transcript; and every call's transcript written to a file."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from app.simulator.engine import SimulationReport, Tally
from app.simulator.results import CALL_STATUSES, CallResult, percentile

__all__ = [
    "call_stats",
    "live_progress",
    "progress_line",
    "save_transcripts",
    "summary_table",
    "transcript_text",
]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def call_stats(results: Sequence[CallResult]) -> dict[str, Any]:
    """Counts and percentiles over calls: the numbers a summary and a scorecard share."""
    lookups = [r.lookup_ms for r in results if r.lookup_ms is not None]
    statuses = Counter(r.status for r in results)
    total = len(results)
    tools = [t for r in results for t in r.tools]
    stats: dict[str, Any] = {
        "calls_total": total,
        **{s: statuses.get(s, 0) for s in CALL_STATUSES},
        **{
            f"{s}_ratio": round(statuses.get(s, 0) / total, 4) if total else 0.0
            for s in CALL_STATUSES
        },
        "unplanned_escalations": sum(
            1 for r in results if r.status == "escalated" and not r.escalation_planned
        ),
        # Lookups in which the layer refused a field a source (or its middleware) sent
        # wrong or without, instead of handing it to the agent.
        "invalid_fields_caught": sum(
            1 for r in results if "invalid_field" in r.lookup_not_live.values()
        ),
        # Lookups whose caller lists (VIP, do-not-call) were not read live: from the last
        # good copy or missing; and of those, any that did not say why.
        "caller_flags_not_live": sum(1 for r in results if "caller_flags" in r.lookup_not_live),
        "caller_flags_unexplained": sum(
            1 for r in results if r.lookup_not_live.get("caller_flags") in ("cached", "missing")
        ),
        "lookup_p50_ms": percentile(lookups, 50),
        "lookup_p95_ms": percentile(lookups, 95),
        "lookup_p99_ms": percentile(lookups, 99),
        "tool_calls": len(tools),
        "tool_p95_ms": percentile([t.latency_ms for t in tools], 95),
        "filler_needed": sum(r.filler_count for r in results),
        "effects_acknowledged": sum(len(r.effects) for r in results),
    }
    for key in ("lookup_p50_ms", "lookup_p95_ms", "lookup_p99_ms", "tool_p95_ms"):
        if stats[key] is not None:
            stats[key] = round(stats[key], 1)
    return stats


def progress_line(tally: Tally, elapsed_s: float, duration_s: float, extra: str = "") -> str:
    statuses = " ".join(f"{s} {tally.statuses.get(s, 0)}" for s in CALL_STATUSES)
    of = "" if math.isinf(duration_s) else f"/{duration_s:.0f}s"
    line = (
        f"[{elapsed_s:5.1f}s{of}] started {tally.started} "
        f"finished {tally.finished} | {statuses} | lookup p95 {_ms(tally.lookup_p95())}"
    )
    if tally.shed:
        line += f" | shed {tally.shed}"
    return f"{line} | {extra}" if extra else line


async def live_progress(
    tally: Tally,
    duration_s: float,
    *,
    out: TextIO | None = None,
    extra: Callable[[], str] = lambda: "",
    clock: Callable[[], float] = time.perf_counter,
    every_s: float = 1.0,
) -> None:
    """One line rewritten in place every second (a new line every 5 s when not a terminal);
    runs until cancelled."""
    out = out or sys.stdout
    began = clock()
    interactive = out.isatty()
    ticks = 0
    try:
        while True:
            await asyncio.sleep(every_s)
            ticks += 1
            line = progress_line(tally, clock() - began, duration_s, extra())
            if interactive:
                out.write("\r\x1b[2K" + line)
                out.flush()
            elif ticks % 5 == 0:
                out.write(line + "\n")
                out.flush()
    finally:
        if interactive:
            out.write("\n")
            out.flush()


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    body = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)
    ]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(lines)


def summary_table(report: SimulationReport) -> str:
    results = report.results
    by_journey: dict[str, list[CallResult]] = defaultdict(list)
    for result in results:
        by_journey[result.journey].append(result)
    header = ("journey", "calls", *CALL_STATUSES, "lookup p95", "filler", "writes")
    rows = []
    for name, group in [*sorted(by_journey.items()), ("all", list(results))]:
        stats = call_stats(group)
        rows.append(
            (
                name,
                stats["calls_total"],
                *(stats[s] for s in CALL_STATUSES),
                _ms(stats["lookup_p95_ms"]),
                stats["filler_needed"],
                stats["effects_acknowledged"],
            )
        )
    by_tool: dict[str, list[Any]] = defaultdict(list)
    for result in results:
        for tool in result.tools:
            by_tool[tool.name].append(tool)
    tool_rows = []
    for name, calls in sorted(by_tool.items()):
        latencies = [t.latency_ms for t in calls]
        counts = Counter(t.status for t in calls)
        tool_rows.append(
            (
                name,
                len(calls),
                counts.get("ok", 0),
                counts.get("degraded", 0),
                counts.get("failed", 0) + counts.get("error", 0),
                _ms(percentile(latencies, 50)),
                _ms(percentile(latencies, 95)),
                sum(t.filler_needed for t in calls),
            )
        )
    stats = call_stats(results)
    systems = Counter(e.system for r in results for e in r.effects)
    rate = report.config.rate_per_s
    dropped = report.started - len(results)
    parts = [
        *(
            [f"(the summary covers the latest {len(results)} of {report.started} calls)"]
            if dropped > 0
            else []
        ),
        f"{len(results)} calls in {report.elapsed_s:.1f} s (offered {rate:g}/s, seed "
        f"{report.seed}); lookup p50 {_ms(stats['lookup_p50_ms'])}, p95 "
        f"{_ms(stats['lookup_p95_ms'])}, p99 {_ms(stats['lookup_p99_ms'])}",
        "",
        _table(header, rows),
    ]
    if tool_rows:
        parts += [
            "",
            _table(
                ("tool", "calls", "ok", "degraded", "failed", "p50", "p95", "filler"), tool_rows
            ),
        ]
    written = ", ".join(f"{s} {n}" for s, n in sorted(systems.items())) or "none"
    parts += ["", f"writes acknowledged: {sum(systems.values())} ({written})"]
    if report.shed:
        parts.append(f"shed (every slot busy when the call arrived): {report.shed}")
    problems = Counter(p for r in results for p in r.problems)
    if problems:
        parts.append("problems: " + "; ".join(f"{p} x{n}" for p, n in problems.most_common(5)))
    return "\n".join(parts)


def transcript_text(result: CallResult) -> str:
    head = f"{result.call_id} · {result.journey} · {result.persona} · {result.status}" + (
        f" ({result.escalation})" if result.escalation else ""
    )
    lines = [head]
    for line in result.transcript:
        lines.append(f"  {line.at_ms / 1000:6.2f}s  {line.speaker:<6}  {line.text}")
    for tool in result.tools:
        lines.append(
            f"          tool {tool.name}: {tool.status}, {tool.latency_ms:.0f} ms"
            + (", filler" if tool.filler_needed else "")
        )
    return "\n".join(lines)


def save_transcripts(report: SimulationReport, path: Path) -> None:
    """One JSON object per call (transcript, tool calls, verdict), oldest first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in report.results:
            out.write(json.dumps(result.as_json(), default=str) + "\n")
