"""``python -m app bench`` (whole calls) and ``python -m app bench lookup``: each starts
its own stack on free loopback ports and prints one table from one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

bench = typer.Typer(
    help="Benchmarks: each starts its own stack on free loopback ports and runs bounded. "
    "Without a command: whole calls against mocks + integration service (`bench lookup`: "
    "the caller lookup alone).",
    invoke_without_command=True,
)


@bench.callback()
def bench_calls(
    ctx: typer.Context,
    profile: Annotated[
        str, typer.Option(help="default (fixed latencies) or stormy (10% errors, 2% hangs).")
    ] = "default",
    profile_hot_path: Annotated[
        bool, typer.Option(help="py-spy the integration process at the target rate.")
    ] = False,
    scale: Annotated[
        float, typer.Option(min=0.05, max=5, help="Every phase this many times its length.")
    ] = 1.0,
    setups: Annotated[
        str,
        typer.Option(
            help="Service setups to measure, comma-separated: 1-sqlite (one worker), "
            "2-sqlite (two workers), 2-postgres (two workers on a throwaway PostgreSQL)."
        ),
    ] = "1-sqlite,2-sqlite,2-postgres",
) -> None:
    """Whole calls (lookup, tools, end) stepped up to 100 calls/s for each service setup,
    then an overload burst; one table, one run."""
    if ctx.invoked_subcommand is not None:
        return
    from loadtests.bench import PROFILES, SETUPS, BenchConfig, held_anywhere, results_path, run

    if profile not in PROFILES:
        raise typer.BadParameter(f"one of {', '.join(PROFILES)}", param_hint="--profile")
    chosen = tuple(s.strip() for s in setups.split(",") if s.strip())
    if not chosen or any(s not in SETUPS for s in chosen):
        raise typer.BadParameter(f"one or more of {', '.join(SETUPS)}", param_hint="--setups")
    hot = Path("bench/out/hot-path.speedscope.json") if profile_hot_path else None
    config = BenchConfig(
        profile=profile, scale=scale, hot_path=hot, out=results_path(profile), setups=chosen
    )
    result = run(config)
    raise typer.Exit(0 if held_anywhere(result) else 1)


@bench.command("lookup")
def bench_lookup(
    seconds: Annotated[
        float, typer.Option(min=1, max=300, help="How long the layer is driven.")
    ] = 15.0,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Concurrent callers.")] = 16,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the mocks' dataset.")] = 1000,
    keep_quotas: Annotated[
        bool, typer.Option(help="Keep the shipped client-side quotas of the read sources.")
    ] = False,
) -> None:
    """Caller lookup vs its critical path, the bare graph and a naive baseline, in one run."""
    from loadtests.lookup import LookupBenchConfig, run

    config = LookupBenchConfig(
        seconds=seconds, concurrency=concurrency, customers=customers, keep_quotas=keep_quotas
    )
    run(config)


def register(cli: typer.Typer) -> None:
    cli.add_typer(bench, name="bench")
