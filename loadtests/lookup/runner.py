"""The caller-lookup benchmark: the layer against its critical path, the bare graph and a
naive sequential baseline, all measured in one run.

    python -m app bench lookup [--seconds 15] [--concurrency 16] [--customers 1000]

1. Starts ``python -m app mocks`` on a free loopback port (state in ``.state/bench``) and
   gives each source a FIXED latency through the chaos API, so the critical path is known.
2. Builds the integration layer in this process (``integration.bootstrap.build``).
3. Times each source alone (sequential calls through the layer's clients) and derives the
   critical path: telephony beside the chain CRM → slowest customer source.
4. Runs ``lookup()`` for real customers from ``--concurrency`` workers for ``--seconds``,
   after a warm-up; then the same graph bare (``asyncio.gather``, no policies) and the
   naive baseline (every source in turn), same customers and workers, for shorter.
5. Prints one table and writes the figures to ``bench/out/lookup.json``.

Overhead is the layer's p95 minus the critical path measured alone: what the deadline,
the policies and serving many lookups at once cost on top of the sources themselves.
The bare fan-out splits that: the sources slow down under load even without the layer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from integration.bootstrap import build
from integration.policies.models import DEFAULT_POLICY_FILE
from integration.settings import IntegrationSettings
from loadtests.lookup import variants
from loadtests.lookup.phases import drive
from loadtests.lookup.report import report, summarize
from loadtests.stack.callers import real_callers
from loadtests.stack.processes import free_port, running

__all__ = ["LATENCY_MS", "LookupBenchConfig", "lift_quotas", "main", "run"]

CHAOS_TOKEN = "switchboard-chaos"  # the mocks' default; handed to the child explicitly
# Fixed latency injected per system; the database is real SQL and gets none.
LATENCY_MS: dict[str, float] = {
    "crm": 60.0,
    "telephony": 100.0,
    "eligibility": 50.0,
    "loans": 80.0,
    "erp": 70.0,
}
DEADLINE_MS = 800.0
STAGGER_S = 0.15  # about one critical path: workers' first lookups spread over it


@dataclass(frozen=True)
class LookupBenchConfig:
    seconds: float = 15.0
    concurrency: int = 16
    customers: int = 1000
    seed: int = 42
    warm_up_s: float = 2.0
    baseline_s: float | None = None  # bare and naive each; default a third of seconds, >= 2
    solo_calls: int = 50
    state_dir: Path = Path(".state/bench")
    out: Path | None = Path("bench/out/lookup.json")
    progress_every_s: float | None = 3.0
    # The shipped policies keep each vendor's quota on our side (erp: 50 requests/s), which
    # caps lookups/s below what 16 workers offer; the queueing it adds is the vendor's limit,
    # not the layer's overhead, so by default the read sources' quotas are lifted.
    keep_quotas: bool = False

    @property
    def baseline_seconds(self) -> float:
        return self.baseline_s or max(2.0, self.seconds / 3)


def lift_quotas(raw: dict[str, Any], systems: Iterable[str]) -> None:
    """Drop the client-side quota of each of ``systems`` from a policy file's (or the
    system map's) data: in a system's ``policy`` block, or written beside it."""
    for system in systems:
        entry = (raw.get("systems") or {}).get(system) or {}
        entry.pop("rate_limit", None)
        (entry.get("policy") or {}).pop("rate_limit", None)


def bench_policies(config: LookupBenchConfig, state: Path) -> Path:
    """The shipped policies, the read sources' client-side quotas lifted unless
    ``keep_quotas``; written into the benchmark's state folder."""
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    if not config.keep_quotas:
        lift_quotas(raw, variants.SOURCES.values())
    path = state / "policies.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def set_latencies(base: str) -> None:
    headers = {"Authorization": f"Bearer {CHAOS_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as control:
        control.post("/_chaos/reset").raise_for_status()  # statistics zeroed, too
        for system, ms in LATENCY_MS.items():
            profile = {"latency": {"kind": "fixed", "ms": ms}}
            control.put(f"/_chaos/systems/{system}", json=profile).raise_for_status()


def mock_side_p95(base: str) -> dict[str, float | None]:
    """Each system's p95 as the mocks measured it (injected latency + handling)."""
    headers = {"Authorization": f"Bearer {CHAOS_TOKEN}"}
    stats = httpx.get(f"{base}/_chaos/stats", headers=headers, timeout=10).json()["systems"]
    return {name: stats.get(name, {}).get("latency_ms", {}).get("p95") for name in LATENCY_MS}


async def measure(
    base: str, database_url: str, config: LookupBenchConfig, state: Path
) -> dict[str, Any]:
    """Steps 2-4 against mocks already answering at ``base`` with the latencies set."""
    settings = IntegrationSettings(
        mocks_url=base,
        database_url=database_url,
        state_dir=state / "integration",
        lookup_deadline_ms=DEADLINE_MS,
        policies_file=bench_policies(config, state),
    )
    layer = build(settings, durable_events=False)
    await layer.start()
    try:
        callers = real_callers(config.customers, config.seed)
        print(f"timing each source alone ({config.solo_calls} sequential calls each)...")
        solo = await variants.solo_p50s(layer.clients, callers, config.solo_calls)
        print("  p50: " + "  ".join(f"{system} {ms:.1f}" for system, ms in solo.items()) + " ms")
        lookup = variants.layer(layer)
        print(f"warming the layer up for {config.warm_up_s:.0f}s...")
        warm = await drive(
            "warm-up",
            lookup,
            callers,
            0,
            config.concurrency,
            config.warm_up_s,
            stagger_s=STAGGER_S,
        )
        start_at = len(warm.latencies_ms) + warm.errors  # measured lookups meet new callers
        await asyncio.to_thread(set_latencies, base)  # zeroes the mocks' statistics
        print(f"layer: {config.concurrency} workers for {config.seconds:.0f}s")
        layer_run = await drive(
            "layer",
            lookup,
            callers,
            start_at,
            config.concurrency,
            config.seconds,
            stagger_s=STAGGER_S,
            progress_every_s=config.progress_every_s,
        )
        phases = {"layer": layer_run}
        mock_side = await asyncio.to_thread(mock_side_p95, base)
        for name, one in (("bare", variants.bare), ("naive", variants.naive)):
            print(f"{name}: {config.concurrency} workers for {config.baseline_seconds:.0f}s")
            phases[name] = await drive(
                name,
                one(layer.clients),
                callers,
                start_at,
                config.concurrency,
                config.baseline_seconds,
                stagger_s=STAGGER_S,
                progress_every_s=config.progress_every_s,
            )
    finally:
        await layer.aclose()
    described = {**asdict(config), "deadline_ms": DEADLINE_MS}
    described.update(
        baseline_s=config.baseline_seconds,
        read_quotas="shipped" if config.keep_quotas else "lifted",
        state_dir=str(config.state_dir),
        out=str(config.out) if config.out else None,
    )
    return summarize(described, LATENCY_MS, solo, phases, mock_side)


def run(config: LookupBenchConfig) -> dict[str, Any]:
    """The whole benchmark: mocks up, latencies set, measured, reported, written."""
    state = config.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{state / 'enterprise.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        "mocks",
        "--port",
        str(port),
        "--customers",
        str(config.customers),
        "--seed",
        str(config.seed),
    ]
    env = {
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_CHAOS_TOKEN": CHAOS_TOKEN,
    }
    print(f"starting the mocks on {base} ({config.customers} customers, state {state})...")
    with running(args, f"{base}/_mock/health", env=env):
        set_latencies(base)
        profile = ", ".join(f"{system} {ms:.0f} ms" for system, ms in LATENCY_MS.items())
        print(f"fixed latencies: {profile}; database: none injected (real SQL)")
        result = asyncio.run(measure(base, database_url, config, state))
    report(result)
    if config.out is not None:
        config.out.parent.mkdir(parents=True, exist_ok=True)
        config.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"figures written to {config.out}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="layer run (0-300]")
    parser.add_argument("--concurrency", type=int, default=16, help="workers [1-256]")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--keep-quotas",
        action="store_true",
        help="keep the shipped client-side quotas of the read sources (erp: 50/s)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 300:
        parser.error("--seconds must be in (0, 300]")
    if not 1 <= args.concurrency <= 256:
        parser.error("--concurrency must be in [1, 256]")
    config = LookupBenchConfig(
        seconds=args.seconds,
        concurrency=args.concurrency,
        customers=args.customers,
        seed=args.seed,
        keep_quotas=args.keep_quotas,
    )
    run(config)
    return 0
