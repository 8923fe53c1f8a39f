"""A scenario's scorecard as a person reads it: a verdict, what was expected against what
was observed (with units, shares as percentages), and a timeline of faults and outcomes.

Pure functions over the JSON the scenario runner posts to ``POST /scenarios/results``
(``app/scenarios/scorecard.py`` writes it); the Scorecards page only lays them out. A
scorecard from an older runner, with fewer fields, still reads: what is missing is left
out, never shown as a raw dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CALL_STATUSES",
    "Metric",
    "RunHeader",
    "calls_rows",
    "expectation_rows",
    "fault_bars",
    "headline",
    "metric",
    "run_header",
    "show",
    "timeline_rows",
    "writes_rows",
]

CALL_STATUSES = ("ok", "degraded", "escalated", "failed")


@dataclass(frozen=True)
class Metric:
    label: str  # what a person calls it
    unit: str  # "%" for shares, "ms", "s", or what is counted ("calls", "writes")

    @property
    def is_share(self) -> bool:
        return self.unit == "%"


_METRICS: dict[str, Metric] = {
    "calls_total": Metric("Calls", "calls"),
    "ok": Metric("Calls served fully", "calls"),
    "degraded": Metric("Calls served with less", "calls"),
    "escalated": Metric("Calls handed to a person", "calls"),
    "failed": Metric("Calls failed", "calls"),
    "ok_ratio": Metric("Calls served fully", "%"),
    "degraded_ratio": Metric("Calls served with less", "%"),
    "escalated_ratio": Metric("Calls handed to a person", "%"),
    "failed_ratio": Metric("Calls failed", "%"),
    "unplanned_escalations": Metric("Escalations not in the script", "calls"),
    "lookup_p50_ms": Metric("Caller lookup, median", "ms"),
    "lookup_p95_ms": Metric("Caller lookup, p95", "ms"),
    "lookup_p99_ms": Metric("Caller lookup, p99", "ms"),
    "tool_p95_ms": Metric("Tool answers, p95", "ms"),
    "filler_needed": Metric("Turns that needed a filler line", "turns"),
    "writes_acknowledged": Metric("Writes acknowledged", "writes"),
    "writes_applied": Metric("Writes applied", "writes"),
    "writes_dead": Metric("Writes dead-lettered", "writes"),
    "writes_pending": Metric("Writes still pending", "writes"),
    "writes_lost": Metric("Writes lost", "writes"),
    "duplicates": Metric("Writes applied twice", "writes"),
    "drain_s": Metric("Outbox drained in", "s"),
    "automation_runs_failed": Metric("CRM automation runs failed", "runs"),
    "callbacks_duplicated": Metric("SMS callbacks sent twice", "callbacks"),
    "shed": Metric("Calls refused at admission", "calls"),
}
_OPS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}
_WRITTEN = re.compile(r"^\s*([a-z0-9_]+)\s*(==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def metric(name: str) -> Metric:
    """What ``name`` is called and counted in; unknown names read as their words."""
    if name in _METRICS:
        return _METRICS[name]
    words = name.replace("_", " ")
    if name.endswith(("_ratio", "_share", "_rate")):
        return Metric(words.rsplit(" ", 1)[0].capitalize(), "%")
    if name.endswith("_ms"):
        return Metric(words.removesuffix(" ms").capitalize(), "ms")
    if name.endswith("_s"):
        return Metric(words.removesuffix(" s").capitalize(), "s")
    return Metric(words.capitalize(), "")


def _percent(share: float) -> str:
    pct = share * 100
    if pct == 0 or (pct >= 99.95 and pct <= 100):
        return f"{pct:.0f}%"
    if abs(pct) < 0.1:
        return "<0.1%"
    text = f"{pct:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def show(name: str, value: Any) -> str:
    """One value of metric ``name``, as a person reads it (a share as a percentage)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    unit = metric(name).unit
    if unit == "%":
        return _percent(float(value))
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


@dataclass(frozen=True)
class RunHeader:
    passed: bool
    scenario: str
    started: str  # "2026-12-06 23:10:02"
    met: int  # expectations that held
    expected: int  # expectations in all
    description: str
    facts: str  # "60 s of traffic at x40 · seed 7 · 412 calls"

    @property
    def verdict(self) -> str:
        return "PASSED" if self.passed else "FAILED"

    @property
    def summary(self) -> str:
        if not self.expected:
            return "no expectations written"
        return f"{self.met} of {self.expected} expectations met"


def _started(result: Mapping[str, Any]) -> str:
    return str(result.get("started_at", ""))[:19].replace("T", " ")


def run_header(result: Mapping[str, Any]) -> RunHeader:
    card = result.get("scorecard") or {}
    checks = [c for c in card.get("expectations") or [] if isinstance(c, Mapping)]
    facts = []
    if isinstance(card.get("duration_s"), int | float):
        facts.append(f"{card['duration_s']:g} s of traffic")
    speed = card.get("speed")
    if isinstance(speed, int | float) and speed != 1:
        facts.append(f"run {speed:g}× faster than written")
    if card.get("seed") is not None:
        facts.append(f"seed {card['seed']}")
    if isinstance(card.get("calls_total"), int):
        facts.append(f"{card['calls_total']:,} calls")
    return RunHeader(
        passed=bool(result.get("passed", card.get("passed", False))),
        scenario=str(result.get("name") or card.get("scenario") or "?"),
        started=_started(result),
        met=sum(1 for c in checks if c.get("passed")),
        expected=len(checks),
        description=str(card.get("description") or ""),
        facts=" · ".join(facts),
    )


def expectation_rows(card: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per expectation: what, expected, observed, unit and the verdict."""
    rows = []
    for check in card.get("expectations") or []:
        if not isinstance(check, Mapping):
            continue
        written = str(check.get("expectation", ""))
        found = _WRITTEN.match(written)
        if found is None:  # not in "metric op number" form: shown as written
            rows.append(
                {
                    "expectation": written,
                    "expected": "—",
                    "observed": str(check.get("actual", "—")),
                    "unit": "",
                    "verdict": "pass" if check.get("passed") else "fail",
                }
            )
            continue
        name, op, value = found[1], found[2], float(found[3])
        about = metric(name)
        observed = check.get("actual", card.get(name))
        rows.append(
            {
                "expectation": about.label,
                "expected": f"{_OPS[op]} {show(name, value)}",
                "observed": show(name, observed),
                "unit": "% of calls" if about.is_share else about.unit,
                "verdict": "pass" if check.get("passed") else "fail",
            }
        )
    return rows


def calls_rows(card: Mapping[str, Any]) -> list[dict[str, str]]:
    """How the calls fared: each outcome as a count and a share of all calls."""
    total = card.get("calls_total")
    rows = []
    for status in CALL_STATUSES:
        count = card.get(status)
        if not isinstance(count, int):
            continue
        share = card.get(f"{status}_ratio")
        if not isinstance(share, int | float) and isinstance(total, int) and total:
            share = count / total
        rows.append(
            {
                "outcome": metric(status).label,
                "calls": f"{count:,}",
                "share": show(f"{status}_ratio", share) if share is not None else "—",
            }
        )
    return rows


def writes_rows(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per destination: acknowledged, applied, dead, pending and lost writes."""
    rows = []
    for entry in card.get("writes_by_system") or []:
        if not isinstance(entry, Mapping):
            continue
        rows.append(
            {
                "system": str(entry.get("system", "?")),
                **{
                    k: int(entry.get(k) or 0)
                    for k in ("acknowledged", "applied", "dead", "pending", "lost")
                },
            }
        )
    return rows


def _clock(seconds: float, *, short: bool = False) -> str:
    """``2:30`` on the run's clock; ``2.5 s`` in a run sped up to under a minute."""
    if short:
        return f"{max(0.0, seconds):.1f} s"
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


_LONG_DECIMAL = re.compile(r"\d+\.\d{2,}")


def _tidy(text: str) -> str:
    """``down for 1.33333s`` (a sped-up run's arithmetic) reads ``down for 1.3s``."""
    return _LONG_DECIMAL.sub(lambda m: f"{float(m[0]):.1f}", text)


def _outcomes(row: Mapping[str, Any]) -> str:
    calls = int(row.get("calls") or 0)
    if not calls:
        return "no calls started meanwhile"
    parts = []
    for status in CALL_STATUSES:
        n = int(row.get(f"calls_{status}") or 0)
        if n:
            parts.append(f"{n:,} {status} ({_percent(n / calls)})")
    return f"{calls:,} calls: " + ", ".join(parts)


def timeline_rows(card: Mapping[str, Any]) -> list[dict[str, str]]:
    """The run's story in order: traffic, each fault and how the calls under it fared, the
    end of traffic and what the write path had done by the drain."""
    duration = card.get("duration_s")
    short = isinstance(duration, int | float) and duration < 60

    def clock(seconds: float) -> str:
        return _clock(seconds, short=short)

    rows: list[dict[str, str]] = []
    if isinstance(duration, int | float):
        rows.append({"at": clock(0), "what": "traffic starts", "outcome": ""})
    for row in card.get("timeline") or []:
        if not isinstance(row, Mapping):
            continue
        at = float(row.get("at_s") or 0)
        note = f" ({row['note']})" if row.get("note") else ""
        what = _tidy(f"{row.get('done') or row.get('action', '')}{note}")
        if row.get("action") == "clear":
            outcome = ""
        else:
            until = row.get("until_s")
            window = f"until {clock(float(until))} · " if isinstance(until, int | float) else ""
            outcome = window + _outcomes(row)
            if row.get("heard"):
                outcome += f' · callers heard "{row["heard"]}"'
        if row.get("applied") is False:
            what = f"NOT APPLIED: {what}"
        rows.append({"at": clock(at), "what": what, "outcome": outcome})
    if isinstance(duration, int | float):
        calls = [f"{int(card[s]):,} {s}" for s in CALL_STATUSES if isinstance(card.get(s), int)]
        total = card.get("calls_total")
        summary = f"{total:,} calls: " + ", ".join(calls) if isinstance(total, int) else ""
        rows.append({"at": clock(float(duration)), "what": "traffic ends", "outcome": summary})
        if isinstance(card.get("drain_s"), int | float):
            drained = card.get("drained", True)
            what = "outbox drained" if drained else "outbox NOT drained"
            writes = (
                f"{int(card.get('writes_applied') or 0):,} of "
                f"{int(card.get('writes_acknowledged') or 0):,} writes applied, "
                f"{int(card.get('writes_dead') or 0):,} dead, "
                f"{int(card.get('writes_lost') or 0):,} lost, "
                f"{int(card.get('duplicates') or 0):,} twice"
            )
            at = float(duration) + float(card["drain_s"])
            rows.append({"at": clock(at), "what": what, "outcome": writes})
    return rows


def fault_bars(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The faults as bars on the run's clock: system, start and end (seconds), what."""
    bars = []
    for row in card.get("timeline") or []:
        if not isinstance(row, Mapping) or row.get("action") == "clear":
            continue
        start = float(row.get("at_s") or 0)
        end = float(row.get("until_s") or start)
        for system in str(row.get("system", "?")).split(", "):
            bars.append(
                {
                    "system": system,
                    "start_s": start,
                    "end_s": max(end, start + 0.05),
                    "what": str(row.get("note") or row.get("action") or ""),
                    "action": str(row.get("action") or ""),
                    "calls": int(row.get("calls") or 0),
                }
            )
    return bars


def headline(card: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, str]:
    """A few numbers for the runs table (metric -> column name), each in its unit; a
    number the card lacks is a dash."""
    return {column: show(name, card.get(name)) for name, column in columns.items()}
