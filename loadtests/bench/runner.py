"""The benchmark: whole calls against the real stack, one table from one run.

    python -m app bench [--profile default|stormy] [--setups 1-sqlite,2-sqlite,2-postgres]
                        [--profile-hot-path] [--scale 1.0]

1. Starts the mocks as a child process on a free port (state in ``.state/bench``; the
   vendors' client-side quotas lifted, so the layer is measured, not a quota).
2. Measures the raw client ceiling: plain aiohttp GETs against the same mocks.
3. Gives each read source the lookup benchmark's fixed latency and times each alone: the
   critical path (``loadtests.lookup``). ``stormy`` then makes every HTTP system fail 10% of
   requests and hang 2% more.
4. For each setup of the integration service (one worker on SQLite, two on SQLite, two on
   PostgreSQL when a server can be started here), a service of its own: call journeys
   (lookup, one to three tools, end) at fixed rates stepped up through 100 calls/s, over
   HTTP, open loop, CPU of each process sampled per phase; the outbox drained and every
   acknowledged write counted in the mocks' ledgers; then the overload burst (2,000 call
   starts from 200 clients at once: admitted ones on time, refused ones at once).
5. Runs the naive sequential lookup (every source in turn) for comparison.
6. Prints one table, a column per setup, and writes ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from integration.policies.models import DEFAULT_POLICY_FILE
from loadtests.bench import driver
from loadtests.bench.baselines import naive_baseline, solo_critical_path
from loadtests.bench.config import SETUPS, BenchConfig, Setup, results_path
from loadtests.bench.hot_path import HotPath, TopEntry, print_top
from loadtests.bench.profiles import HTTP_SYSTEMS, PROFILES, BenchProfile, storm_faults
from loadtests.bench.report import phase_figures, report, shortfalls, sustained
from loadtests.journeys.calls import Caller
from loadtests.lookup.phases import cpu_seconds
from loadtests.lookup.report import critical_path
from loadtests.lookup.runner import DEADLINE_MS, LATENCY_MS, lift_quotas, set_latencies
from loadtests.overload import burst
from loadtests.stack.callers import real_callers
from loadtests.stack.ledgers import count_writes
from loadtests.stack.services import Mocks, Stack, integration_service, mocks_service
from loadtests.transport_ceiling import ENDPOINT
from loadtests.transport_ceiling import measure as ceiling_run

__all__ = ["held_anywhere", "lifted_policies", "main", "run"]


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
    """CPU seconds of a process and its children (a service's worker processes)."""
    process = psutil.Process(pid)
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        try:
            times = each.cpu_times()
        except psutil.Error:  # gone between the listing and the reading
            continue
        total += times.user + times.system
    return total


def _progress(tally: driver.Tally, at_s: float) -> None:
    p95 = tally.pct(tally.lookup_ms[-300:], 95) or 0.0
    print(
        f"  {tally.name:<8}{at_s:4.0f}s  started {tally.started:6}  finished {tally.finished:6}"
        f"  failed {tally.failed_calls:4}  late {tally.late:4}  lookup p95 (last 300) "
        f"{p95:6.1f} ms",
        flush=True,
    )


async def _drain(base: str, headers: dict[str, str], timeout_s: float) -> tuple[float, int]:
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        while time.monotonic() - began < timeout_s:
            summary = (await http.get("/outbox")).json()
            if summary["pending"] == 0 and summary["in_flight"] == 0:
                return time.monotonic() - began, int(summary["dead"])
            await asyncio.sleep(0.25)
    raise TimeoutError(f"the outbox did not drain in {timeout_s:.0f} s")


async def _phases(
    s: Stack, config: BenchConfig, profile: BenchProfile, setup: Setup
) -> dict[str, Any]:
    callers = [Caller(c.phone, c.customer_id) for c in real_callers(config.customers, config.seed)]
    rng = random.Random(config.seed)
    numbers = itertools.count()
    phases: list[dict[str, Any]] = []
    acknowledged: dict[str, str] = {}
    hot: list[dict[str, Any]] = []
    pids = {"integration": s.integration_pid, "mocks": s.mocks_pid}
    async with driver.session(s.api_headers) as http:
        tools = await driver.offered_tools(http, s.integration_url)
        for phase in profile.phases:
            if phase.calls_per_s > profile.target.calls_per_s and any(map(shortfalls, phases)):
                print(f"{phase.name}: skipped (a slower phase already did not hold)")
                continue
            tally = driver.Tally(phase.name, phase.calls_per_s, phase.seconds)
            print(
                f"{phase.name}: {phase.calls_per_s:g} calls/s for {phase.seconds:.0f} s"
                f"{'' if phase.measured else ' (not measured)'}",
                flush=True,
            )
            sampler = None
            if config.hot_path is not None and phase == profile.target:
                sampler = HotPath(s.integration_pid, phase.seconds, config.hot_path)
            before = {name: _cpu(pid) for name, pid in pids.items()}
            before["driver"] = cpu_seconds()
            upstream = await asyncio.to_thread(_upstream, s.mocks_url, s.control_headers)
            await driver.drive(
                http,
                s.integration_url,
                tally,
                callers,
                tools,
                rng,
                numbers,
                progress=_progress if config.progress_every_s else None,
                progress_every_s=config.progress_every_s or 3.0,
                prefix=f"bench-{setup.key}-{int(time.time())}",
            )
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
    drain_s, dead = await _drain(s.integration_url, s.api_headers, config.drain_timeout_s)
    counted = await asyncio.to_thread(count_writes, s.mocks_url, acknowledged, s.control_headers)
    writes = {
        "acknowledged": counted.acknowledged,
        "applied": counted.applied,
        "duplicated": len(counted.duplicates),
        "lost": len(counted.lost),
        "dead": dead,
        "drain_s": round(drain_s, 2),
    }
    print(
        f"overload: {config.burst_calls} call starts from {config.burst_concurrency} "
        "clients at once...",
        flush=True,
    )
    overload = await burst(
        s.integration_url,
        [c.phone for c in callers],
        calls=config.burst_calls,
        concurrency=config.burst_concurrency,
        deadline_ms=DEADLINE_MS,
        prefix=f"burst-{setup.key}-{int(time.time())}",
        headers=s.api_headers,
    )
    for line in overload.lines():
        print(f"  {line}")
    return {"phases": phases, "writes": writes, "hot_path": hot, "overload": overload.as_json()}


def run(config: BenchConfig) -> dict[str, Any]:
    """The whole benchmark, reported and written."""
    profile = PROFILES[config.profile].scaled(config.scale)
    state = config.state_dir.resolve()
    for stale in state.glob("integration*"):  # an empty outbox to start
        shutil.rmtree(stale, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    setups: dict[str, Any] = {}
    with mocks_service(state, customers=config.customers, seed=config.seed) as mocks:
        policies = lifted_policies(state)
        print(
            f"raw client ceiling: {config.ceiling_concurrency} concurrent GETs for "
            f"{config.ceiling_s:g} s...",
            flush=True,
        )
        ceiling = ceiling_run(
            "uvloop",
            "aiohttp",
            _aiohttp(config.ceiling_concurrency),
            mocks.url + ENDPOINT,
            config.ceiling_s,
            config.ceiling_concurrency,
        )
        set_latencies(mocks.url)
        solo = asyncio.run(solo_critical_path(mocks, config, state))
        if profile.storm:
            print("storm: 10% errors and 2% hangs on every HTTP system", flush=True)
            _storm(mocks.url, mocks.control_headers)
        for key in config.setups:
            setups[key] = _one_setup(SETUPS[key], mocks, config, profile, state, policies)
        naive = asyncio.run(naive_baseline(mocks, config, state))
    result = _summarize(config, profile, solo, setups, naive, ceiling.rate)
    report(result)
    for key, measured in setups.items():
        if measured.get("hot_path") and config.hot_path is not None:
            print(f"({SETUPS[key].label})")
            print_top([TopEntry(**e) for e in measured["hot_path"]], config.hot_path)
    if config.out is not None:
        config.out.parent.mkdir(parents=True, exist_ok=True)
        config.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"figures written to {config.out}")
    return result


def _one_setup(
    setup: Setup,
    mocks: Mocks,
    config: BenchConfig,
    profile: BenchProfile,
    state: Path,
    policies: Path,
) -> dict[str, Any]:
    print(f"\n== {setup.label} ==", flush=True)
    with _store(setup.store) as store_url:
        if setup.store == "postgres" and store_url is None:
            print(
                "  skipped: no PostgreSQL server can be started here (apt-get install postgresql)",
                flush=True,
            )
            return {"skipped": "no PostgreSQL server at hand"}
        folder = state / f"integration-{setup.key}" / "state"
        with integration_service(
            mocks, folder, policies=policies, workers=setup.workers, store_url=store_url
        ) as service:
            return asyncio.run(_phases(service, config, profile, setup))


@contextmanager
def _store(kind: str) -> Iterator[str | None]:
    """The store's URL: None for SQLite in the state folder; for PostgreSQL a throwaway
    server, or None when PostgreSQL is not installed here."""
    from loadtests.stack.postgres import find_pg_bin, temporary_postgres

    if kind != "postgres" or find_pg_bin() is None:
        yield None
        return
    with temporary_postgres() as server:
        yield server.url


def _aiohttp(concurrency: int) -> Any:
    from integration.transports import AiohttpTransport

    return lambda: AiohttpTransport(concurrency)


def _summarize(
    config: BenchConfig,
    profile: BenchProfile,
    solo: Mapping[str, float],
    setups: Mapping[str, dict[str, Any]],
    naive: dict[str, Any],
    ceiling_rate: float,
) -> dict[str, Any]:
    measured_cp = round(critical_path(solo), 2)
    configured = {"database": 0.0, **LATENCY_MS}
    # The most the parallel lookup can gain on the naive one with these latencies: the
    # sum of every source over the longest chain.
    naive_bound = round(sum(configured.values()) / critical_path(configured), 2)
    summaries = {
        key: _setup_summary(measured, profile, measured_cp, ceiling_rate)
        for key, measured in setups.items()
    }
    first = next((s for s in summaries.values() if "skipped" not in s), None)
    if first is not None:
        layer_p50 = first["reference"]["lookup_ms"]["p50"] or 1.0
        naive["over_layer_p50"] = round(naive["p50_ms"] / layer_p50, 2)
    naive["bound_for_these_latencies"] = naive_bound
    return {
        "config": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "deadline_ms": DEADLINE_MS,
            "latency_ms": LATENCY_MS,
            "storm": profile.storm,
            "journeys": driver.journey_kinds_note(),
            "phases": [asdict(p) for p in profile.phases],
            "setups": {key: asdict(SETUPS[key]) for key in setups},
        },
        "solo_p50_ms": dict(solo),
        "critical_path_ms": {"measured": measured_cp, "configured": critical_path(configured)},
        "setups": summaries,
        "naive": naive,
        "ceiling": {"requests_per_s": round(ceiling_rate, 1)},
    }


def _setup_summary(
    measured: dict[str, Any], profile: BenchProfile, critical_ms: float, ceiling_rate: float
) -> dict[str, Any]:
    if "skipped" in measured:
        return {"skipped": measured["skipped"]}
    phases = measured["phases"]
    target = next(p for p in phases if p["name"] == profile.target.name)
    held = sustained(phases)
    # The fastest phase that held: its figures are the comparable ones (none held: the
    # slowest phase, the nearest to holding).
    ref = held or min(phases, key=lambda p: p["offered_per_s"])
    writes = measured["writes"]
    within = sum(p["lookups_within_deadline"]["within"] for p in phases)
    lookups = sum(p["lookups_within_deadline"]["of"] for p in phases)
    per_call = ref["upstream_requests_per_call"] or 1.0
    return {
        "phases": phases,
        "target_phase": target,
        "sustained": held,
        "sustained_calls_per_hour": held["offered_per_s"] * 3600 if held else 0,
        "reference": ref,
        "overhead_p95_ms": round((ref["lookup_ms"]["p95"] or 0.0) - critical_ms, 2),
        "share_of_ceiling": round(ref["upstream_requests_per_s"] / ceiling_rate, 3),
        "ceiling_calls_per_s": round(ceiling_rate / per_call, 1),
        "writes": writes,
        "overload": measured["overload"],
        "lookups_within_deadline_all_phases": {"within": within, "of": lookups},
        "stormy_pass": writes["lost"] == 0 and writes["duplicated"] == 0 and within == lookups,
        "hot_path": measured["hot_path"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--scale", type=float, default=1.0, help="phase lengths x this (0-5]")
    parser.add_argument(
        "--profile-hot-path",
        action="store_true",
        help="py-spy the integration process at the target rate",
    )
    parser.add_argument(
        "--setups", default=",".join(SETUPS), help=f"comma-separated, of {', '.join(SETUPS)}"
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 5:
        parser.error("--scale must be in (0, 5]")
    setups = tuple(s.strip() for s in args.setups.split(",") if s.strip())
    unknown = [s for s in setups if s not in SETUPS]
    if unknown or not setups:
        parser.error(f"--setups: {unknown or 'none'} (one or more of {', '.join(SETUPS)})")
    hot = Path("bench/out/hot-path.speedscope.json") if args.profile_hot_path else None
    config = BenchConfig(profile=args.profile, scale=args.scale, hot_path=hot, setups=setups)
    result = run(replace(config, out=results_path(args.profile)))
    return 0 if held_anywhere(result) else 1


def held_anywhere(result: Mapping[str, Any]) -> bool:
    """Whether some setup held some rate (the exit status of a run)."""
    return any(s.get("sustained") for s in result["setups"].values())
