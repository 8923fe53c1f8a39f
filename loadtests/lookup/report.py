"""The lookup benchmark's figures and its one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadtests.lookup.phases import Phase

__all__ = ["OVERHEAD_TARGET_MS", "critical_path", "report", "summarize"]

OVERHEAD_TARGET_MS = 15.0
CPU_NOTE = (
    "getrusage of the benchmark process: the layer's side only (its event loop and SQL "
    "threads); the mocks run in another process and are not counted"
)


def critical_path(ms: Mapping[str, float]) -> float:
    """The slowest chain of the lookup's graph: telephony, or the CRM and then the slowest
    of the four customer sources (which run side by side)."""
    customer = max(ms["database"], ms["eligibility"], ms["loans"], ms["erp"])
    return max(ms["telephony"], ms["crm"] + customer)


def summarize(
    config: Mapping[str, Any],
    configured_ms: Mapping[str, float],
    solo_p50_ms: Mapping[str, float],
    phases: Mapping[str, Phase],
    mock_side_p95_ms: Mapping[str, float | None],
) -> dict[str, Any]:
    """Everything the table shows (and ``bench/out/lookup.json`` keeps), from one run."""
    measured_cp = round(critical_path(solo_p50_ms), 2)
    configured_cp = critical_path({"database": 0.0, **configured_ms})
    figures = {name: phase.figures() for name, phase in phases.items()}
    layer, bare, naive = figures["layer"], figures["bare"], figures["naive"]
    overhead = round(layer["p95_ms"] - measured_cp, 2)
    return {
        "config": dict(config),
        "latency_profile_ms": {**configured_ms, "database": None},
        "solo_p50_ms": dict(solo_p50_ms),
        "critical_path_ms": {"measured": measured_cp, "configured": configured_cp},
        **figures,
        "mock_side_p95_ms_during_layer": dict(mock_side_p95_ms),
        "overhead_p95_ms": overhead,
        "overhead_target_ms": OVERHEAD_TARGET_MS,
        "overhead_pass": overhead <= OVERHEAD_TARGET_MS,
        "policy_cost_p95_ms": round(layer["p95_ms"] - bare["p95_ms"], 2),
        "naive_over_layer_p50": round(naive["p50_ms"] / layer["p50_ms"], 2),
        "cpu_note": CPU_NOTE,
    }


def _ms(*values: float) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + " ms"


def _each(result: Mapping[str, Any], key: str) -> str:
    return " / ".join(str(result[name][key]) for name in ("layer", "bare", "naive"))


def report(result: Mapping[str, Any]) -> None:
    cp, layer, bare, naive = (
        result["critical_path_ms"],
        result["layer"],
        result["bare"],
        result["naive"],
    )
    verdict = "PASS" if result["overhead_pass"] else "MISS"
    mock_side = "  ".join(
        f"{system} {ms:.0f}"
        for system, ms in result["mock_side_p95_ms_during_layer"].items()
        if ms is not None
    )
    rows = [
        ("critical path, from measured p50s / configured", _ms(cp["measured"], cp["configured"])),
        ("layer p50 / p95 / p99", _ms(layer["p50_ms"], layer["p95_ms"], layer["p99_ms"])),
        (
            "overhead = layer p95 - critical path (measured)",
            f"{result['overhead_p95_ms']:.1f} ms (target <= {OVERHEAD_TARGET_MS:.0f} ms) {verdict}",
        ),
        ("bare fan-out p50 / p95 (same graph, no policies)", _ms(bare["p50_ms"], bare["p95_ms"])),
        ("layer p95 - bare fan-out p95 (what the layer adds)", _ms(result["policy_cost_p95_ms"])),
        ("naive sequential p50 / p95", _ms(naive["p50_ms"], naive["p95_ms"])),
        ("naive p50 / layer p50", f"{result['naive_over_layer_p50']:.2f}x"),
        ("lookups/s layer / bare / naive", _each(result, "per_s")),
        ("lookups measured layer / bare / naive", _each(result, "lookups")),
        ("degraded layer lookups (a field not live)", f"{layer['degraded']} of {layer['lookups']}"),
        ("errors layer / bare / naive", _each(result, "errors")),
        ("CPU s per lookup layer / bare / naive (*)", _each(result, "cpu_s_per_lookup")),
        ("mock-side p95 during the layer run (ms)", mock_side),
    ]
    width = max(len(name) for name, _ in rows)
    config = result["config"]
    print(
        f"\ncaller lookup benchmark: {config['concurrency']} workers, {config['customers']} "
        f"customers, deadline {config['deadline_ms']:.0f} ms, read quotas {config['read_quotas']}"
    )
    print("-" * (width + 40))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("-" * (width + 40))
    for name, count in sorted(layer["degraded_fields"].items()):
        print(f"  degraded field {name}: {count}")
    print(f"(*) {result['cpu_note']}.")
