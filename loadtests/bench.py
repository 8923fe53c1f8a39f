"""The benchmark: whole calls against the real stack, one table from one run.

    python -m app bench [--profile default|stormy] [--profile-hot-path] [--scale 1.0]

1. Starts the mocks and the integration service as child processes on free ports (state
   in ``.state/bench``; the vendors' client-side quotas lifted, so the layer is measured,
   not a quota).
2. Measures the raw client ceiling: plain aiohttp GETs against the same mocks.
3. Gives each read source the lookup benchmark's fixed latency and times each alone: the
   critical path (``bench_lookup``). ``stormy`` then makes every HTTP system fail 10% of
   requests and hang 2% more.
4. Drives call journeys (lookup, one to three tools, end) at fixed rates, stepped up
   through 100 calls/s, over HTTP, open loop; CPU of each process sampled per phase.
5. Lets the outbox drain and counts every acknowledged write in the mocks' ledgers.
6. Runs the naive sequential lookup (every source in turn) for comparison.
7. Prints the table and writes ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from integration.policies.models import DEFAULT_POLICY_FILE
from loadtests import _bench_driver as driver
from loadtests._bench_profiles import PROFILES, BenchProfile, storm_faults
from loadtests._bench_report import phase_figures, report, shortfalls, sustained
from loadtests._hot_path import HotPath, print_top
from loadtests._ledgers import count_writes
from loadtests._lookup_phases import cpu_seconds, real_callers
from loadtests._lookup_report import critical_path
from loadtests._services import Stack, stack
from loadtests.bench_lookup import DEADLINE_MS, LATENCY_MS, lift_quotas, set_latencies
from loadtests.journeys import Caller
from loadtests.transport_ceiling import ENDPOINT
from loadtests.transport_ceiling import measure as ceiling_run

__all__ = ["BenchConfig", "main", "results_path", "run"]


@dataclass(frozen=True)
class BenchConfig:
    profile: str = "default"
    scale: float = 1.0  # every phase this many times its length
    customers: int = 1000
    seed: int = 42
    solo_calls: int = 30
    naive_s: float = 5.0
    naive_concurrency: int = 16
    ceiling_s: float = 3.0
    ceiling_concurrency: int = 100
    drain_timeout_s: float = 180.0
    state_dir: Path = Path(".state/bench")
    out: Path | None = Path("bench/results.json")
    hot_path: Path | None = None  # py-spy's speedscope file, when profiling
    progress_every_s: float | None = 3.0


def results_path(profile: str) -> Path:
    """``bench/results.json`` for the default profile; ``bench/results-<profile>.json``
    for the others, so a stormy run does not replace the figures the README quotes."""
    return Path("bench/results.json" if profile == "default" else f"bench/results-{profile}.json")


def lifted_policies(state: Path) -> Path:
    """The shipped policies without client-side quotas (the lookup benchmark lifts the
    read sources'; the calls here also write, to calendars and mailboxes that allow ten
    requests a second, which would measure the vendor's quota, not the layer)."""
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    lift_quotas(raw, list(raw.get("systems") or {}))
    path = state / "policies.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _storm(base: str, headers: Mapping[str, str]) -> None:
    from loadtests._bench_profiles import HTTP_SYSTEMS

    with httpx.Client(base_url=base, headers=dict(headers), timeout=10) as control:
        for system in HTTP_SYSTEMS:
            faults = storm_faults(LATENCY_MS.get(system))
            control.put(f"/_chaos/systems/{system}", json=faults).raise_for_status()


def _upstream(base: str, headers: Mapping[str, str]) -> int:
    # A generous timeout: right after an overloaded phase the mocks may still be working
    # through its backlog, and the run must not end there.
    stats = httpx.get(f"{base}/_chaos/stats", headers=dict(headers), timeout=60).json()
    return sum(int(s.get("requests", 0)) for s in stats["systems"].values())


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _progress(tally: driver.Tally, at_s: float) -> None:
    p95 = tally.pct(tally.lookup_ms[-300:], 95) or 0.0
    print(f"  {tally.name:<8}{at_s:4.0f}s  started {tally.started:6}  finished {tally.finished:6}"
          f"  failed {tally.failed_calls:4}  late {tally.late:4}  lookup p95 (last 300) "
          f"{p95:6.1f} ms", flush=True)  # fmt: skip


async def _drain(base: str, timeout_s: float) -> tuple[float, int]:
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while time.monotonic() - began < timeout_s:
            summary = (await http.get("/outbox")).json()
            if summary["pending"] == 0 and summary["in_flight"] == 0:
                return time.monotonic() - began, int(summary["dead"])
            await asyncio.sleep(0.25)
    raise TimeoutError(f"the outbox did not drain in {timeout_s:.0f} s")


async def _phases(s: Stack, config: BenchConfig, profile: BenchProfile) -> dict[str, Any]:
    callers = [Caller(c.phone, c.customer_id) for c in real_callers(config.customers, config.seed)]
    rng = random.Random(config.seed)
    numbers = itertools.count()
    phases: list[dict[str, Any]] = []
    acknowledged: dict[str, str] = {}
    hot: list[dict[str, Any]] = []
    pids = {"integration": s.integration_pid, "mocks": s.mocks_pid}
    async with driver.session() as http:
        tools = await driver.offered_tools(http, s.integration_url)
        for phase in profile.phases:
            if phase.calls_per_s > profile.target.calls_per_s and any(map(shortfalls, phases)):
                print(f"{phase.name}: skipped (a slower phase already did not hold)")
                continue
            tally = driver.Tally(phase.name, phase.calls_per_s, phase.seconds)
            print(f"{phase.name}: {phase.calls_per_s:g} calls/s for {phase.seconds:.0f} s"
                  f"{'' if phase.measured else ' (not measured)'}", flush=True)  # fmt: skip
            sampler = None
            if config.hot_path is not None and phase == profile.target:
                sampler = HotPath(s.integration_pid, phase.seconds, config.hot_path)
            before = {name: _cpu(pid) for name, pid in pids.items()}
            before["driver"] = cpu_seconds()
            upstream = await asyncio.to_thread(_upstream, s.mocks_url, s.control_headers)
            await driver.drive(
                http, s.integration_url, tally, callers, tools, rng, numbers,
                progress=_progress if config.progress_every_s else None,
                progress_every_s=config.progress_every_s or 3.0,
            )  # fmt: skip
            upstream = await asyncio.to_thread(_upstream, s.mocks_url, s.control_headers) - upstream
            cpu = {name: _cpu(pid) - before[name] for name, pid in pids.items()}
            cpu["driver"] = cpu_seconds() - before["driver"]
            acknowledged.update(tally.acknowledged)
            if sampler is not None:
                entries = await asyncio.to_thread(sampler.finish)
                hot = [asdict(e) for e in entries]
            if phase.measured:
                phases.append(phase_figures(tally, cpu, upstream))
    print("letting the outbox drain...", flush=True)
    drain_s, dead = await _drain(s.integration_url, config.drain_timeout_s)
    counted = await asyncio.to_thread(count_writes, s.mocks_url, acknowledged, s.control_headers)
    writes = {"acknowledged": counted.acknowledged, "applied": counted.applied,
              "duplicated": len(counted.duplicates), "lost": len(counted.lost), "dead": dead,
              "drain_s": round(drain_s, 2)}  # fmt: skip
    return {"phases": phases, "writes": writes, "hot_path": hot}


def run(config: BenchConfig) -> dict[str, Any]:
    """The whole benchmark, reported and written."""
    from loadtests._bench_baselines import naive_baseline, solo_critical_path

    profile = PROFILES[config.profile].scaled(config.scale)
    state = config.state_dir.resolve()
    shutil.rmtree(state / "integration", ignore_errors=True)  # an empty outbox to start
    state.mkdir(parents=True, exist_ok=True)
    with stack(state, customers=config.customers, seed=config.seed,
               policies=lifted_policies(state)) as s:  # fmt: skip
        print(f"raw client ceiling: {config.ceiling_concurrency} concurrent GETs for "
              f"{config.ceiling_s:g} s...", flush=True)  # fmt: skip
        ceiling = ceiling_run("uvloop", "aiohttp", _aiohttp(config.ceiling_concurrency),
                              s.mocks_url + ENDPOINT, config.ceiling_s,
                              config.ceiling_concurrency)  # fmt: skip
        set_latencies(s.mocks_url)
        solo = asyncio.run(solo_critical_path(s, config, state))
        if profile.storm:
            print("storm: 10% errors and 2% hangs on every HTTP system", flush=True)
            _storm(s.mocks_url, s.control_headers)
        measured = asyncio.run(_phases(s, config, profile))
        naive = asyncio.run(naive_baseline(s, config, state))
    result = _summarize(config, profile, solo, measured, naive, ceiling.rate)
    report(result)
    if measured["hot_path"] and config.hot_path is not None:
        from loadtests._hot_path import TopEntry

        print_top([TopEntry(**e) for e in measured["hot_path"]], config.hot_path)
    if config.out is not None:
        config.out.parent.mkdir(parents=True, exist_ok=True)
        config.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"figures written to {config.out}")
    return result


def _aiohttp(concurrency: int) -> Any:
    from integration.transports import AiohttpTransport

    return lambda: AiohttpTransport(concurrency)


def _summarize(config: BenchConfig, profile: BenchProfile, solo: Mapping[str, float],
               measured: dict[str, Any], naive: dict[str, Any],
               ceiling_rate: float) -> dict[str, Any]:  # fmt: skip
    phases = measured["phases"]
    target = next(p for p in phases if p["name"] == profile.target.name)
    held = sustained(phases)
    ref = held or target  # the fastest phase that held: its figures are the comparable ones
    measured_cp = round(critical_path(solo), 2)
    per_call = ref["upstream_requests_per_call"] or 1.0
    naive["over_layer_p50"] = round(naive["p50_ms"] / (ref["lookup_ms"]["p50"] or 1.0), 2)
    within = sum(p["lookups_within_deadline"]["within"] for p in phases)
    lookups = sum(p["lookups_within_deadline"]["of"] for p in phases)
    writes = measured["writes"]
    return {
        "config": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "deadline_ms": DEADLINE_MS,
            "latency_ms": LATENCY_MS,
            "storm": profile.storm,
            "journeys": driver.journey_kinds_note(),
            "phases": [asdict(p) for p in profile.phases],
        },
        "solo_p50_ms": dict(solo),
        "critical_path_ms": {
            "measured": measured_cp,
            "configured": critical_path({"database": 0.0, **LATENCY_MS}),
        },
        "phases": phases,
        "target_phase": target,
        "sustained": held,
        "sustained_calls_per_hour": held["offered_per_s"] * 3600 if held else 0,
        "reference_phase": ref["name"],
        "overhead_p95_ms": round((ref["lookup_ms"]["p95"] or 0.0) - measured_cp, 2),
        "writes": writes,
        "naive": naive,
        "ceiling": {
            "requests_per_s": round(ceiling_rate, 1),
            "requests_per_call": per_call,
            "calls_per_s_equivalent": round(ceiling_rate / per_call, 1),
        },
        "lookups_within_deadline_all_phases": {"within": within, "of": lookups},
        "stormy_pass": writes["lost"] == 0 and writes["duplicated"] == 0 and within == lookups,
        "hot_path": measured["hot_path"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--scale", type=float, default=1.0, help="phase lengths x this (0-5]")
    parser.add_argument("--profile-hot-path", action="store_true",
                        help="py-spy the integration process at the target rate")  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 5:
        parser.error("--scale must be in (0, 5]")
    hot = Path("bench/out/hot-path.speedscope.json") if args.profile_hot_path else None
    config = BenchConfig(profile=args.profile, scale=args.scale, hot_path=hot)
    result = run(replace(config, out=results_path(args.profile)))
    return 0 if result["sustained"] is not None else 1


if __name__ == "__main__":
    raise SystemExit(main(None))
