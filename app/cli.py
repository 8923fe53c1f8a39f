"""``python -m app``: Switchboard's command line.

Each command builds its settings from the environment (``SWITCHBOARD_*``) plus its flags,
then starts one part of the stack in the foreground.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from mocks.settings import MockSettings

__all__ = ["cli", "main"]

cli = typer.Typer(
    name="python -m app",
    help="Switchboard: a mock enterprise that breaks on demand, and the tools around it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HostOpt = Annotated[str, typer.Option(help="Interface to bind (loopback by default).")]
PortOpt = Annotated[int, typer.Option(help="Port of the mock enterprise.")]
CustomersOpt = Annotated[
    int | None, typer.Option(help="Customers in the shared dataset [default: 1000].")
]
SeedOpt = Annotated[int | None, typer.Option(help="Seed of the dataset and the chaos engine.")]
FaultsOpt = Annotated[
    Path | None, typer.Option(help="YAML fault profile applied at start.", exists=True)
]
AutomationsOpt = Annotated[
    Path | None,
    typer.Option(help="YAML CRM automation rules (default: the shipped ones).", exists=True),
]
OnlyOpt = Annotated[
    list[str] | None, typer.Option("--only", help="Serve only this system (repeatable).")
]


def _mock_settings(**overrides: Any) -> MockSettings:
    try:
        return MockSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _serve_mocks(settings: MockSettings, only: list[str] | None) -> None:
    from app.serving import serve_forever
    from mocks.registry import build_enterprise

    started = time.perf_counter()
    try:
        enterprise = build_enterprise(settings, only=only)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    url = settings.base_url
    typer.echo(
        f"mock enterprise: {len(enterprise.services)} systems, "
        f"{settings.customers} customers (seed {settings.seed}), "
        f"built in {time.perf_counter() - started:.1f}s"
    )
    for service in enterprise.services.values():
        typer.echo(f"  {url}/{service.name:<12} {service.title} ({service.vendor})")
    typer.echo(f"  {url}/_chaos        chaos control (Bearer token)")
    typer.echo(f"  {url}/_mock/systems inspection, ledgers")
    serve_forever(enterprise.app, host=settings.host, port=settings.port)


@cli.command()
def mocks(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8100,
    customers: CustomersOpt = None,
    seed: SeedOpt = None,
    faults: FaultsOpt = None,
    automations: AutomationsOpt = None,
    only: OnlyOpt = None,
) -> None:
    """Serve the mock enterprise (every system, or --only some) on one port."""
    settings = _mock_settings(
        host=host,
        port=port,
        customers=customers,
        seed=seed,
        faults_file=faults,
        crm_automations_file=automations,
    )
    _serve_mocks(settings, only)


@cli.command()
def integration(
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the integration service.")] = 8000,
    mocks_url: Annotated[
        str | None, typer.Option(help="Where the mock enterprise answers.")
    ] = None,
    policies: Annotated[
        Path | None, typer.Option(help="YAML resilience policies.", exists=True)
    ] = None,
    transport: Annotated[str | None, typer.Option(help="aiohttp (default) or httpx.")] = None,
) -> None:
    """Serve the integration service (caller lookup, events, metrics) on :8000."""
    from app.serving import serve_forever
    from integration.bootstrap import build
    from integration.logs import configure_logging
    from integration.service.app import create_app
    from integration.settings import IntegrationSettings

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "mocks_url": mocks_url,
        "policies_file": policies,
        "transport": transport,
    }
    try:
        settings = IntegrationSettings(**{k: v for k, v in overrides.items() if v is not None})
        layer = build(settings)
    except (ValidationError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    configure_logging("INFO")
    typer.echo(f"integration service on http://{host}:{port} (mocks at {settings.mocks_url})")
    serve_forever(create_app(layer), host=host, port=port)


@cli.command()
def up(
    customers: CustomersOpt = None,
    seed: SeedOpt = None,
    faults: FaultsOpt = None,
) -> None:
    """Start the whole stack on 127.0.0.1: mocks :8100, integration :8000."""
    from app.supervisor import Part, Supervisor

    mocks_args = ["mocks", "--port", "8100"]
    if customers is not None:
        mocks_args += ["--customers", str(customers)]
    if seed is not None:
        mocks_args += ["--seed", str(seed)]
    if faults is not None:
        mocks_args += ["--faults", str(faults)]
    supervisor = Supervisor(
        [
            Part("mocks", tuple(mocks_args), "http://127.0.0.1:8100/_mock/health"),
            Part("integration", ("integration", "--port", "8000"), "http://127.0.0.1:8000/health"),
        ]
    )
    typer.echo("starting mocks on :8100 and integration on :8000 (Ctrl-C stops both)...")
    typer.echo(
        "then try: curl -s -X POST localhost:8000/calls -H 'content-type: application/json' "
        '-d \'{"phone": "(215) 486-1799"}\''
    )
    try:
        code = supervisor.run()
    except RuntimeError as exc:
        typer.echo(f"up: {exc}", err=True)
        raise typer.Exit(1) from exc
    raise typer.Exit(code)


@cli.command()
def dataset(
    customers: CustomersOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Generate the shared dataset and print what is in it (and how long it took)."""
    from mocks.dataset import generate_dataset
    from mocks.dataset.mess import MESS_RATES

    settings = _mock_settings(customers=customers, seed=seed)
    started = time.perf_counter()
    data = generate_dataset(customers=settings.customers, seed=settings.seed)
    elapsed = time.perf_counter() - started
    typer.echo(f"generated in {elapsed:.2f}s; fingerprint {data.fingerprint()[:16]}")
    for field in (
        "customers",
        "crm_accounts",
        "crm_contacts",
        "crm_leads",
        "bank_accounts",
        "transactions",
        "products",
        "loans",
        "orders",
        "inventory",
        "calls",
    ):
        typer.echo(f"  {field:<14} {len(getattr(data, field)):>9,}")
    typer.echo("configured mess rates:")
    for name, rate in MESS_RATES.items():
        typer.echo(f"  {name:<32} {rate:>6.1%}")


bench = typer.Typer(
    help="Benchmarks: each starts its own mocks on a free loopback port and runs bounded.",
    no_args_is_help=True,
)
cli.add_typer(bench, name="bench")


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
    from loadtests.bench_lookup import LookupBenchConfig, run

    config = LookupBenchConfig(
        seconds=seconds, concurrency=concurrency, customers=customers, keep_quotas=keep_quotas
    )
    run(config)


def main() -> None:
    cli()
