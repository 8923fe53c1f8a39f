"""The benchmark's figures (``bench/results.json``) and its one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadtests._bench_driver import Tally
from loadtests._bench_profiles import TARGET_CALLS_PER_S
from loadtests._lookup_report import OVERHEAD_TARGET_MS

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
    load generator started calls late (then it, not the service, set the pace), or a
    lookup came back after its deadline (requests were queueing in front of the service).
    The count of calls started is not judged: Poisson arrivals over ten seconds vary by a
    few percent either way."""
    found = []
    if phase["failed_calls"] or phase["errors"]:
        found.append(f"{phase['failed_calls']} calls failed")
    if phase["finished"] < phase["started"]:
        found.append(f"{phase['started'] - phase['finished']} calls unfinished")
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


def _ms(*values: float | None) -> str:
    return " / ".join("-" if v is None else f"{v:.1f}" for v in values) + " ms"


def _share(within: Mapping[str, int]) -> str:
    return (
        f"{within['within']}/{within['of']} ({100 * within['within'] / max(1, within['of']):.1f}%)"
    )


def _all_on_time(phase: Mapping[str, Any]) -> bool:
    within = phase["lookups_within_deadline"]
    return bool(within["within"] == within["of"])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _lookup(phase: Mapping[str, Any]) -> str:
    ms = phase["lookup_ms"]
    return _ms(ms["p50"], ms["p95"], ms["p99"])


def report(result: Mapping[str, Any]) -> None:
    target, held = result["target_phase"], result["sustained"]
    ref = held or target  # the figures of the fastest phase that held (else the target's)
    cp, writes, naive, ceiling = (
        result["critical_path_ms"], result["writes"], result["naive"], result["ceiling"],
    )  # fmt: skip
    held_text = (
        f"{held['offered_per_s'] * 3600:,.0f} calls/hour ({held['offered_per_s']:g}/s)"
        if held
        else "none of the phases held"
    )
    target_ok = held is not None and held["offered_per_s"] >= TARGET_CALLS_PER_S
    failed = [f"{p['name']}: {', '.join(shortfalls(p))}" for p in result["phases"] if shortfalls(p)]
    overhead = result["overhead_p95_ms"]
    tools = "  ".join(f"{n} {v:.0f}" for n, v in ref["tool_p95_ms"].items() if v is not None)
    cpu = ref["cpu_s_per_call"]
    at = f"at {ref['name']}"
    rows = [
        ("sustained, zero errors",
         f"{held_text} (target {TARGET_CALLS_PER_S * 3600:,.0f}) {_verdict(target_ok)}"),
        ("phases that did not hold", "; ".join(failed) or "none"),
        ("calls started / failed, by phase", "; ".join(
            f"{p['name']} {p['started']}/{p['failed_calls']}" for p in result["phases"])),
        (f"lookup p50 / p95 / p99 {at}", _lookup(ref) + " (client side, over HTTP)"),
        (f"lookup p50 / p95 / p99 at {target['name']} (target)", _lookup(target)),
        ("critical path, measured / configured", _ms(cp["measured"], cp["configured"])),
        (f"layer overhead {at} = lookup p95 - critical path",
         f"{overhead:.1f} ms (target <= {OVERHEAD_TARGET_MS:.0f} ms) "
         f"{_verdict(overhead <= OVERHEAD_TARGET_MS)}"),
        (f"lookups within deadline + {DEADLINE_SLACK_MS:.0f} ms", "; ".join(
            f"{p['name']} {_share(p['lookups_within_deadline'])}" for p in result["phases"])),
        (f"tool p95 {at} (ms)", tools or "-"),
        (f"end p50 / p95 {at}", _ms(ref["end_ms"]["p50"], ref["end_ms"]["p95"])),
        ("writes acknowledged / applied / duplicated",
         f"{writes['acknowledged']:,} / {writes['applied']:,} / {writes['duplicated']} "
         f"(lost {writes['lost']}, dead {writes['dead']}, drained in {writes['drain_s']:.1f} s)"),
        (f"CPU s per call {at}: integration / mocks / driver",
         " / ".join(f"{cpu.get(k, 0):.4f}" for k in ("integration", "mocks", "driver"))),
        ("naive sequential baseline: lookup p50 / p95",
         _ms(naive["p50_ms"], naive["p95_ms"])
         + f" = {naive['over_layer_p50']:.2f}x the layer's p50 {at}; {naive['per_s']:.0f} "
         f"lookups/s from {naive['concurrency']} lines"),
        ("raw client ceiling (aiohttp, plain GETs)",
         f"{ceiling['requests_per_s']:,.0f} req/s = {ceiling['calls_per_s_equivalent']:,.0f} "
         f"calls/s at {ceiling['requests_per_call']:.1f} upstream requests a call; the layer "
         f"drove {ref['upstream_requests_per_s']:,.0f} req/s {at}"),
    ]  # fmt: skip
    if result["config"]["storm"]:
        intact = writes["lost"] == 0 and writes["duplicated"] == 0
        on_time = "; ".join(f"{p['name']} {_verdict(_all_on_time(p))}" for p in result["phases"])
        rows.append(("storm: writes lost 0, duplicated 0", _verdict(intact)))
        rows.append((f"storm: lookups within deadline + {DEADLINE_SLACK_MS:.0f} ms, all", on_time))
    width = max(len(name) for name, _ in rows)
    config = result["config"]
    print(
        f"\nSwitchboard benchmark, profile {config['profile']}: {config['customers']} customers, "
        f"lookup deadline {config['deadline_ms']:.0f} ms, fixed latencies "
        + ", ".join(f"{s} {ms:.0f}" for s, ms in config["latency_ms"].items())
        + f" ms{'; storm: 10% errors + 2% hangs on every HTTP system' if config['storm'] else ''}"
    )
    print("-" * (width + 60))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("-" * (width + 60))
    print(f"journeys: {config['journeys']}; vendor quotas lifted (the layer is measured, "
          "not a quota); load generator, mocks and service share the same cores.")  # fmt: skip
