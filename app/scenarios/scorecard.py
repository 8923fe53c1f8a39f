"""The scorecard: how the calls fared through a scenario, what was written, what held.

A plain JSON-ready dict, numbers first (the dashboard shows the first few as columns),
then lists of rows (expectations, timeline, what callers heard, writes per system).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.scenarios.model import CALL_METRICS, Scenario, TimelineEvent
from app.scenarios.writes import DrainResult, WriteCount
from app.simulator.engine import SimulationReport
from app.simulator.report import call_stats
from app.simulator.results import CALL_STATUSES, CallResult

__all__ = ["AppliedEvent", "build_scorecard", "render_scorecard"]

HEARD_TOP = 8


@dataclass
class AppliedEvent:
    event: TimelineEvent
    applied_at_s: float | None  # since traffic began; None if it never ran
    done: str = ""  # what the control plane was told
    error: str | None = None


def _window(applied: AppliedEvent, timeline: Sequence[AppliedEvent], ends_s: float) -> float:
    """Until the fault's own end, the next change to the same system, or the run's end."""
    event = applied.event
    if event.ends_at is not None:
        return min(event.ends_at, ends_s)
    later = [
        a.event.at for a in timeline if a.event.system == event.system and a.event.at > event.at
    ]
    return min([*later, ends_s])


_NUMBERS = re.compile(r"\d[\d,.:]*\d|\d")


def _shape(say: str) -> str:
    """A line with its numbers as N, so "a payment of $30" and "of $296" count as one."""
    return _NUMBERS.sub("N", say)


def _said_once(together: Sequence[AppliedEvent]) -> str:
    """``crm: cleared; slack: cleared`` -> ``crm, slack: cleared``."""
    systems = [a.event.system for a in together]
    said = {a.done.removeprefix(f"{a.event.system}: ") for a in together}
    if len(said) == 1:
        return f"{', '.join(systems)}: {said.pop()}"
    return "; ".join(a.done for a in together)


def _fault_rows(
    timeline: Sequence[AppliedEvent], results: Sequence[CallResult], ends_s: float
) -> list[dict[str, Any]]:
    """One row per moment and action: events applied together (the same fault on five
    systems at 0:15) share a row, since the calls in their window are the same calls."""
    groups: dict[tuple[float, str], list[AppliedEvent]] = {}
    for applied in timeline:
        groups.setdefault((round(applied.event.at, 3), applied.event.action), []).append(applied)
    rows = []
    for (at, action), together in groups.items():
        first = together[0]
        until = max(_window(a, timeline, ends_s) for a in together)
        inside = [] if action == "clear" else [r for r in results if at <= r.started_s < until]
        statuses = Counter(r.status for r in inside)
        # What the fault made callers hear: the words of tools that did not simply succeed.
        heard = Counter(
            _shape(t.say) for r in inside for t in r.tools if t.say and t.status != "ok"
        )
        heard = heard or Counter(_shape(say) for r in inside for say in r.heard())
        problems = [a.error for a in together if a.error]
        rows.append(
            {
                "at_s": round(at, 1),
                "system": ", ".join(a.event.system for a in together),
                "action": action,
                "note": first.event.note or "",
                "done": "; ".join(problems) if problems else _said_once(together),
                "applied": not problems and all(a.applied_at_s is not None for a in together),
                "until_s": round(until, 1),
                "calls": len(inside),
                # Not "ok": the dashboard reads a column named ok as a pass/fail verdict.
                **{f"calls_{s}": statuses.get(s, 0) for s in CALL_STATUSES},
                "filler": sum(r.filler_count for r in inside),
                "heard": heard.most_common(1)[0][0] if heard else "",
            }
        )
    return rows


def build_scorecard(
    scenario: Scenario,
    report: SimulationReport,
    writes: WriteCount,
    drain: DrainResult,
    timeline: Sequence[AppliedEvent],
    *,
    automation_runs_failed: int = 0,
    callbacks_duplicated: int = 0,
    payment_events: dict[str, int] | None = None,
    faults_injected: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    results = report.results
    stats = call_stats(results)
    numbers: dict[str, Any] = {
        **{k: stats[k] for k in CALL_METRICS},
        "writes_acknowledged": writes.acknowledged,
        "writes_applied": writes.applied,
        "writes_dead": writes.dead,
        "writes_pending": writes.pending,
        "writes_lost": writes.lost,
        "duplicates": writes.duplicates,
        "drain_s": round(drain.waited_s, 1),
        "automation_runs_failed": automation_runs_failed,
        "callbacks_duplicated": callbacks_duplicated,
        # Requests the legacy core refused in its batch window: a layer that stops calling
        # a closed system keeps this near one per worker.
        "batch_window_refusals": (faults_injected or {}).get("core", {}).get("batch_window", 0),
        # Answers the middleware gateway sent with a field dropped or mangled.
        "fields_mangled": sum(
            n
            for kind, n in (faults_injected or {}).get("middleware", {}).items()
            if kind.startswith("field_")
        ),
        "shed": report.shed,
        # Stripe's events the payments mock delivered to the layer, and what became of them.
        "payment_events_sent": (payment_events or {}).get("sent", 0),
        "payment_events_kept": (payment_events or {}).get("kept", 0),
        "payment_events_lost": (payment_events or {}).get("lost", 0),
        "payment_events_applied_twice": (payment_events or {}).get("applied_twice", 0),
    }
    checks = []
    for expectation in scenario.expectations:
        actual = numbers.get(expectation.metric)
        checks.append(
            {"expectation": str(expectation), "actual": actual, "passed": expectation.holds(actual)}
        )
    heard = Counter(_shape(say) for r in results for say in r.heard())
    return {
        **numbers,
        "drained": drain.drained,
        "passed": all(c["passed"] for c in checks),
        "scenario": scenario.name,
        "description": scenario.description,
        "speed": scenario.speed,
        "seed": report.seed,
        "duration_s": round(scenario.duration, 1),
        "expectations": checks,
        "timeline": _fault_rows(timeline, results, report.elapsed_s),
        "caller_heard": [{"say": s, "times": n} for s, n in heard.most_common(HEARD_TOP)],
        "writes_by_system": [{"system": s, **row} for s, row in sorted(writes.by_system.items())],
        "dead_reasons": writes.dead_reasons,
        "lost_keys": writes.lost_keys[:20],
        "duplicate_keys": writes.duplicate_keys[:20],
        "faults_injected": faults_injected or {},
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 1 or value == 0 else f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def render_scorecard(card: dict[str, Any]) -> str:
    """The scorecard as a person reads it in a terminal."""
    verdict = "PASSED" if card["passed"] else "FAILED"
    lines = [
        f"scenario {card['scenario']} (speed x{card['speed']:g}, seed {card['seed']}): {verdict}",
        f"  {card['description']}",
        "",
        f"calls     {card['calls_total']} total: ok {card['ok']}, degraded {card['degraded']}, "
        f"escalated {card['escalated']} ({card['unplanned_escalations']} unplanned), "
        f"failed {card['failed']}" + (f"; shed {card['shed']}" if card["shed"] else ""),
        f"lookup    p50 {_fmt(card['lookup_p50_ms'])} ms, p95 {_fmt(card['lookup_p95_ms'])} ms, "
        f"p99 {_fmt(card['lookup_p99_ms'])} ms; tools p95 {_fmt(card['tool_p95_ms'])} ms; "
        f"filler needed {card['filler_needed']}",
        f"writes    acknowledged {card['writes_acknowledged']}, applied "
        f"{card['writes_applied']}, dead {card['writes_dead']}, pending "
        f"{card['writes_pending']}, lost {card['writes_lost']}, duplicates "
        f"{card['duplicates']} (outbox {'drained' if card['drained'] else 'NOT drained'} "
        f"in {card['drain_s']:g} s)",
    ]
    if card["automation_runs_failed"] or card["callbacks_duplicated"]:
        lines.append(
            f"ripples   CRM automation runs with a failed step "
            f"{card['automation_runs_failed']}; SMS status callbacks sent twice "
            f"{card['callbacks_duplicated']}"
        )
    if card.get("payment_events_sent"):
        lines.append(
            f"webhooks  payment events sent {card['payment_events_sent']}, kept until their "
            f"charge landed {card['payment_events_kept']}, lost {card['payment_events_lost']}, "
            f"applied twice {card['payment_events_applied_twice']}"
        )
    if card["timeline"]:
        lines += ["", "timeline (calls started while each fault was in force):"]
        for row in card["timeline"]:
            note = f" ({row['note']})" if row["note"] else ""
            lines.append(f"  {row['at_s']:>6g}s  {row['done']}{note}")
            if row["action"] == "clear":
                continue
            counts = ", ".join(f"{s} {row['calls_' + s]}" for s in CALL_STATUSES)
            lines.append(
                f"{'':>10}{row['calls']} calls started until {row['until_s']:g}s: {counts}"
            )
            if row["heard"]:
                lines.append(f'{"":>10}heard: "{row["heard"]}"')
    if card["caller_heard"]:
        lines += ["", "what callers heard most (numbers as N):"]
        lines += [f"  {h['times']:>4} x  {h['say']}" for h in card["caller_heard"]]
    if card["expectations"]:
        lines += ["", "expectations:"]
        for check in card["expectations"]:
            mark = "pass" if check["passed"] else "FAIL"
            lines.append(f"  [{mark}] {check['expectation']:<32} actual {_fmt(check['actual'])}")
    return "\n".join(lines)
