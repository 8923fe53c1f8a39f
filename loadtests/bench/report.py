"""The benchmark's figures (``bench/results.json``) and its one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadtests.bench.driver import Tally
from loadtests.bench.profiles import TARGET_CALLS_PER_S
from loadtests.lookup.report import OVERHEAD_TARGET_MS

__all__ = ["DEADLINE_SLACK_MS", "phase_figures", "report", "shortfalls", "sustained"]

DEADLINE_SLACK_MS = 25.0  # a lookup answered this long after its deadline is still on time


def phase_figures(tally: Tally, cpu: Mapping[str, float], upstream: int) -> dict[str, Any]:
    """One phase, as the JSON keeps it. ``cpu``: CPU seconds by process over the phase;
    ``upstream``: requests the mocks served during it."""
    within, lookups = tally.within(DEADLINE_SLACK_MS)
    calls = max(1, tally.finished)
    return {
        "name": tally.name,
        "offered_per_s": tally.rate,
        "seconds": round(tally.elapsed_s, 2),
        "started": tally.started,
        "finished": tally.finished,
        "failed_calls": tally.failed_calls,
        "errors": dict(tally.errors),
        "late_starts": tally.late,
        "refused": tally.refused,
        "refused_ms_p95": tally.pct(tally.refused_ms, 95),
        "started_per_s": round(tally.started / tally.seconds, 1),
        "lookup_ms": {f"p{q}": tally.pct(tally.lookup_ms, q) for q in (50, 95, 99)},
        "lookup_server_ms": {f"p{q}": tally.pct(tally.lookup_server_ms, q) for q in (50, 95, 99)},
        "lookup_max_ms": round(max(tally.lookup_ms, default=0.0), 2),
        "lookups_within_deadline": {"within": within, "of": lookups, "slack_ms": DEADLINE_SLACK_MS},
        "degraded_lookups": tally.degraded_lookups,
        "end_ms": {f"p{q}": tally.pct(tally.end_ms, q) for q in (50, 95)},
        "tool_p95_ms": {
            name.rsplit("/", 1)[-1]: tally.pct(ms, 95) for name, ms in sorted(tally.tool_ms.items())
        },
        "tool_status": dict(tally.tool_status),
        "cpu_s_per_call": {name: round(s / calls, 5) for name, s in cpu.items()},
        "upstream_requests_per_s": round(upstream / tally.seconds, 1),
        "upstream_requests_per_call": round(upstream / calls, 2),
    }


def shortfalls(phase: Mapping[str, Any]) -> list[str]:
    """Why a phase did not hold (empty: it held): a call failed or never finished, the
    service refused starts (it was too busy to serve them in time), the load generator
    started calls late (then it, not the service, set the pace), or a lookup came back
    after its deadline (requests were queueing in front of the service).
    The count of calls started is not judged: Poisson arrivals over ten seconds vary by a
    few percent either way."""
    found = []
    if phase["failed_calls"] or phase["errors"]:
        found.append(f"{phase['failed_calls']} calls failed")
    if phase["finished"] < phase["started"]:
        found.append(f"{phase['started'] - phase['finished']} calls unfinished")
    if phase.get("refused"):
        found.append(f"{phase['refused']} starts refused (too busy)")
    if phase["late_starts"] > 0.01 * phase["started"]:
        found.append(f"{phase['late_starts']} started late (the load generator fell behind)")
    within = phase["lookups_within_deadline"]
    if within["within"] < within["of"]:
        found.append(f"{within['of'] - within['within']} lookups past deadline + slack")
    return found


def sustained(phases: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The fastest measured phase that held (see ``shortfalls``)."""
    held = [p for p in phases if not shortfalls(p)]
    return max(held, key=lambda p: p["offered_per_s"], default=None)


CPU_TARGET_MS = {"integration": 10.0, "mocks": 5.0}
CEILING_SHARE_TARGET = 0.5
NAIVE_TARGET = 3.0


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _n(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _setup_rows(setup: Mapping[str, Any], critical_ms: float) -> dict[str, str]:
    """One setup's column: the value of each row."""
    if "skipped" in setup:
        return {"held": f"skipped: {setup['skipped']}"}
    held, ref = setup["sustained"], setup["reference"]
    at = ref["name"] if held else f"{ref['name']}, which did not hold"
    rate = held["offered_per_s"] if held else 0.0
    ms, cpu = ref["lookup_ms"], ref["cpu_s_per_call"]
    overload, writes = setup["overload"], setup["writes"]
    refused = sum(p.get("refused", 0) for p in setup["phases"])
    failed = [f"{p['name']}: {', '.join(shortfalls(p))}" for p in setup["phases"] if shortfalls(p)]
    within = setup["lookups_within_deadline_all_phases"]
    slowest_tool = max((v for v in ref["tool_p95_ms"].values() if v is not None), default=None)
    share = setup["share_of_ceiling"]
    burst_errors = sum(overload["errors"].values())
    admitted_max = _n(overload["admitted_ms"]["p100"], 0)
    refused_p95 = _n(overload["refused_ms"]["p95"], 0)
    return {
        "held": f"{rate:g}/s {_verdict(rate >= TARGET_CALLS_PER_S)}" if held else "none MISS",
        "not held": "; ".join(failed) or "-",
        "lookup": f"{_n(ms['p50'], 0)} / {_n(ms['p95'], 0)} / {_n(ms['p99'], 0)} ({at})",
        "overhead": f"{setup['overhead_p95_ms']:.1f} "
        f"{_verdict(setup['overhead_p95_ms'] <= OVERHEAD_TARGET_MS)}",
        "within": f"{within['within']}/{within['of']}",
        "tools": f"{_n(slowest_tool, 0)} / {_n(ref['end_ms']['p95'], 0)}",
        "cpu": " / ".join(f"{1000 * cpu.get(k, 0):.1f}" for k in ("integration", "mocks", "driver"))
        + f" {_verdict(all(1000 * cpu.get(k, 0) <= t for k, t in CPU_TARGET_MS.items()))}",
        "ceiling": f"{100 * share:.1f}% ({ref['upstream_requests_per_s']:,.0f} req/s) "
        f"{_verdict(share >= CEILING_SHARE_TARGET)}",
        "refused": str(refused),
        "writes": f"{writes['acknowledged']:,} / {writes['applied']:,} / {writes['duplicated']}"
        f" / {writes['lost']}",
        "burst": f"{overload['admitted']} / {overload['refused']} / {burst_errors}",
        "burst late": f"{overload['admitted_late']} late (max {admitted_max})"
        f" / {overload['refused_slow']} slow (p95 {refused_p95})"
        f" {_verdict(overload['passed'])}",
    }


_ROWS = (
    ("held", f"calls/s held with 0 errors (target {TARGET_CALLS_PER_S:g})"),
    ("lookup", "lookup p50 / p95 / p99 ms at the held rate"),
    ("overhead", f"lookup p95 - critical path, ms (target <= {OVERHEAD_TARGET_MS:.0f})"),
    ("within", f"lookups within deadline + {DEADLINE_SLACK_MS:.0f} ms, all phases"),
    ("tools", "slowest tool p95 / end p95, ms"),
    ("cpu", "CPU ms per call: integration / mocks / driver (target 10 / 5)"),
    ("ceiling", f"layer req/s as share of raw ceiling (target {CEILING_SHARE_TARGET:.0%})"),
    ("refused", "starts refused during the rate phases"),
    ("writes", "writes acknowledged / applied / duplicated / lost"),
    ("burst", "overload burst: admitted / refused / errors"),
    ("burst late", "  admitted past deadline + 25 ms / refused past 50 ms"),
)


def report(result: Mapping[str, Any]) -> None:
    config = result["config"]
    cp = result["critical_path_ms"]
    setups = result["setups"]
    columns = {key: _setup_rows(s, cp["measured"]) for key, s in setups.items()}
    labels = {key: config["setups"][key]["label"] for key in setups}
    width = max(len(label) for _, label in _ROWS) + 2
    col = max(34, *(len(v) + 2 for c in columns.values() for k, v in c.items() if k != "not held"))
    print(
        f"\nSwitchboard benchmark, profile {config['profile']}: {config['customers']} customers, "
        f"lookup deadline {config['deadline_ms']:.0f} ms, fixed latencies "
        + ", ".join(f"{s} {ms:.0f}" for s, ms in config["latency_ms"].items())
        + f" ms{'; storm: 10% errors + 2% hangs on every HTTP system' if config['storm'] else ''}"
    )
    line = "-" * (width + col * len(columns))
    print(line)
    print(" " * width + "".join(f"{labels[k]:<{col}}" for k in columns))
    for key, label in _ROWS:
        print(f"{label:<{width}}" + "".join(f"{columns[k].get(key, ''):<{col}}" for k in columns))
    print(line)
    for key in columns:
        print(f"{labels[key]}, phases that did not hold: {columns[key].get('not held', '-')}")
    naive, ceiling = result["naive"], result["ceiling"]
    slowdown = naive.get("over_layer_p50")
    print(f"critical path, measured / configured: {cp['measured']:.1f} / {cp['configured']:.1f} ms")
    print(f"raw client ceiling (aiohttp, plain GETs): {ceiling['requests_per_s']:,.0f} req/s")
    print(
        f"naive sequential lookup: p50 / p95 {naive['p50_ms']:.1f} / {naive['p95_ms']:.1f} ms = "
        f"{_n(slowdown, 2)}x the layer's p50 (target {NAIVE_TARGET:g}x "
        f"{_verdict((slowdown or 0) >= NAIVE_TARGET)}; with these latencies no lookup can be "
        f"more than {naive['bound_for_these_latencies']:.2f}x faster than the naive one)"
    )
    if config["storm"]:
        for key, setup in setups.items():
            if "skipped" not in setup:
                print(
                    f"storm, {labels[key]}: nothing lost or doubled and every lookup on time "
                    f"{_verdict(setup['stormy_pass'])}"
                )
    print(
        f"journeys: {config['journeys']}; vendor quotas lifted (the layer is measured, "
        "not a quota); load generator, mocks and service share the same cores."
    )
