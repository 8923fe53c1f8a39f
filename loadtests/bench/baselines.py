"""The benchmark's same-run references, taken with a layer built in this process over the
same mocks: each source timed alone (the critical path) and the naive sequential lookup.
Both reuse the lookup benchmark's pieces (``loadtests.lookup.variants`` and ``.phases``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integration.bootstrap import Integration, build
from integration.settings import IntegrationSettings
from loadtests.lookup import variants
from loadtests.lookup.phases import drive
from loadtests.lookup.runner import DEADLINE_MS, STAGGER_S
from loadtests.stack.callers import real_callers

if TYPE_CHECKING:
    from loadtests.bench.config import BenchConfig
    from loadtests.stack.services import Mocks

__all__ = ["naive_baseline", "solo_critical_path"]


@asynccontextmanager
async def _layer(s: Mocks, state: Path, policies: Path) -> AsyncIterator[Integration]:
    settings = IntegrationSettings(
        mocks_url=s.url,
        database_url=s.database_url,
        state_dir=state / "baseline",
        lookup_deadline_ms=DEADLINE_MS,
        policies_file=policies,
        dispatcher=False,  # reads only: the service's outbox is not this layer's business
    )
    layer = build(settings, durable_events=False)
    await layer.start()
    try:
        yield layer
    finally:
        await layer.aclose()


async def solo_critical_path(s: Mocks, config: BenchConfig, state: Path) -> dict[str, float]:
    """Each source's p50 alone (sequential calls), system -> ms."""
    callers = real_callers(config.customers, config.seed)
    print(f"timing each source alone ({config.solo_calls} sequential calls each)...", flush=True)
    async with _layer(s, state, state / "policies.yaml") as layer:
        solo = await variants.solo_p50s(layer.clients, callers, config.solo_calls)
    print("  p50: " + "  ".join(f"{system} {ms:.1f}" for system, ms in solo.items()) + " ms")
    return solo


async def naive_baseline(s: Mocks, config: BenchConfig, state: Path) -> dict[str, Any]:
    """Every source awaited in turn, no deadline, from ``naive_concurrency`` lines."""
    callers = real_callers(config.customers, config.seed)
    print(
        f"naive sequential lookups: {config.naive_concurrency} lines for {config.naive_s:g} s...",
        flush=True,
    )
    async with _layer(s, state, state / "policies.yaml") as layer:
        phase = await drive(
            "naive",
            variants.naive(layer.clients),
            callers,
            0,
            config.naive_concurrency,
            config.naive_s,
            stagger_s=STAGGER_S,
        )
    figures = phase.figures()
    return {
        "concurrency": config.naive_concurrency,
        "lookups": figures["lookups"],
        "per_s": figures["per_s"],
        "p50_ms": figures["p50_ms"],
        "p95_ms": figures["p95_ms"],
        "errors": figures["errors"],
    }
