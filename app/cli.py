"""``switchboard`` (or ``python -m app``): Switchboard's command line.

Each command builds its settings from the environment (``SWITCHBOARD_*``) plus its flags,
then starts one part of the stack in the foreground.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from app.bench_commands import register as register_bench_commands
from app.cli_options import IntegrationUrlOpt, MocksUrlOpt
from app.design_commands import register as register_design_commands
from app.traffic_commands import register as register_traffic_commands
from mocks.settings import MockSettings

__all__ = ["cli", "main"]

cli = typer.Typer(
    name="switchboard",
    help="Switchboard: a mock enterprise that breaks on demand, and the tools around it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HostOpt = Annotated[str, typer.Option(help="Interface to bind (loopback by default).")]
PortOpt = Annotated[int, typer.Option(help="Port of the mock enterprise.")]
CustomersOpt = Annotated[
    int | None, typer.Option(help="Customers in the shared dataset (default 1000).")
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
    mocks_url: MocksUrlOpt = None,
    policies: Annotated[
        Path | None, typer.Option(help="YAML resilience policies.", exists=True)
    ] = None,
    transport: Annotated[str | None, typer.Option(help="aiohttp (default) or httpx.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes serving the port (one store).")
    ] = 1,
    store_url: Annotated[
        str | None,
        typer.Option(
            help="The layer's store (SQLAlchemy URL); default SQLite in the state folder."
        ),
    ] = None,
) -> None:
    """Serve the integration service (calls, tools, outbox, events, metrics) on :8000."""
    from sqlalchemy.engine import make_url

    from app.serving import serve_factory
    from integration.access import MissingSecrets
    from integration.bootstrap import build
    from integration.settings import IntegrationSettings

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "mocks_url": mocks_url,
        "policies_file": policies,
        "transport": transport,
        "workers": workers,
        "store_url": store_url,
    }
    chosen = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = IntegrationSettings(**chosen)
        # Every setting and the system map checked, and the secrets made (on loopback),
        # before a worker starts.
        access = build(settings).access
    except (ValidationError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    except MissingSecrets as exc:
        typer.echo(f"integration: {exc}", err=True)
        raise typer.Exit(2) from exc
    # The workers read their settings from the environment: the flags travel there.
    for name, value in chosen.items():
        os.environ[f"SWITCHBOARD_INTEGRATION_{name.upper()}"] = str(value)
    store = (
        make_url(settings.store_url).render_as_string(hide_password=True)
        if settings.store_url
        else f"SQLite in {settings.state_dir}"
    )
    typer.echo(
        f"integration service on http://{host}:{port} ({workers} worker"
        f"{'s' if workers > 1 else ''}, store {store}, mocks at {settings.mocks_url}); "
        f"API token and Vapi secret from {access.source}"
    )
    serve_factory(
        "integration.api.asgi:app_from_environment",
        host=host,
        port=port,
        workers=workers,
        metrics_dir=settings.state_dir / "metrics" if workers > 1 else None,
    )


@cli.command()
def dashboard(
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
    integration_url: IntegrationUrlOpt = None,
    mocks_url: MocksUrlOpt = None,
) -> None:
    """Serve the live dashboard (Streamlit) on :8501: flow map, calls, chaos, write path, load."""
    from app.dashboard import MAIN_SCRIPT
    from app.dashboard.settings import DashboardSettings

    # The Streamlit process reads its settings from the environment: flags travel there.
    env = dict(os.environ)
    if integration_url:
        env["SWITCHBOARD_DASHBOARD_INTEGRATION_URL"] = integration_url
    if mocks_url:
        env["SWITCHBOARD_DASHBOARD_MOCKS_URL"] = mocks_url
    try:
        settings = DashboardSettings(
            host=host,
            port=port,
            integration_url=env.get(
                "SWITCHBOARD_DASHBOARD_INTEGRATION_URL", "http://127.0.0.1:8000"
            ),
            mocks_url=env.get("SWITCHBOARD_DASHBOARD_MOCKS_URL", "http://127.0.0.1:8100"),
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(MAIN_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
    ]
    typer.echo(
        f"dashboard on http://{host}:{port} (integration {settings.integration_url}, "
        f"mocks {settings.mocks_url})"
    )
    sys.stdout.flush()
    # Replace this process, so a supervisor's SIGTERM reaches Streamlit itself.
    os.execve(sys.executable, args, env)


@cli.command()
def up(
    customers: CustomersOpt = None,
    seed: SeedOpt = None,
    faults: FaultsOpt = None,
    traffic: Annotated[
        str, typer.Option(help="Background simulated calls (e.g. 1/s, 30/min); 0 for none.")
    ] = "1/s",
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes of the integration service.")
    ] = 1,
    mocks_port: Annotated[int, typer.Option(help="Port of the mock enterprise.")] = 8100,
    integration_port: Annotated[int, typer.Option(help="Port of the integration service.")] = 8000,
    dashboard_port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
) -> None:
    """Start the whole stack on 127.0.0.1: mocks :8100, integration :8000, dashboard :8501."""
    from app.supervisor import Part, Supervisor

    started = time.monotonic()
    mocks_url = f"http://127.0.0.1:{mocks_port}"
    layer_url = f"http://127.0.0.1:{integration_port}"
    board_url = f"http://127.0.0.1:{dashboard_port}"
    urls = ("--mocks-url", mocks_url)
    mocks_args = ["mocks", "--port", str(mocks_port)]
    if customers is not None:
        mocks_args += ["--customers", str(customers)]
    if seed is not None:
        mocks_args += ["--seed", str(seed)]
    if faults is not None:
        mocks_args += ["--faults", str(faults)]
    parts = [
        Part("mocks", tuple(mocks_args), f"{mocks_url}/_mock/health", port=mocks_port),
        Part(
            "integration",
            ("integration", "--port", str(integration_port), "--workers", str(workers), *urls),
            f"{layer_url}/health",
            port=integration_port,
        ),
        Part(
            "dashboard",
            ("dashboard", "--port", str(dashboard_port), "--integration-url", layer_url, *urls),
            f"{board_url}/_stcore/health",
            port=dashboard_port,
        ),
    ]
    if traffic not in ("0", "0/s", "none"):
        # The simulator has no port of its own: it is ready when the service it calls is.
        parts.append(
            Part(
                "traffic",
                (
                    *("simulate", "--rate", traffic, "--duration", "forever", "--quiet"),
                    *("--integration-url", layer_url, *urls),
                ),
                f"{layer_url}/health",
                ready_timeout_s=10,
            )
        )
    # The service's secrets, made in its state folder on the first start; handed to every
    # part in the environment, so the dashboard and the simulated calls use them wherever
    # that folder is.
    secrets, secrets_file = _integration_secrets()
    # The payments mock posts its signed events to the layer's route.
    hook = {"SWITCHBOARD_PAYMENTS_WEBHOOK_URL": f"{layer_url}/webhooks/payments"}
    supervisor = Supervisor(parts, env={**secrets, **hook})
    typer.echo(
        f"starting the mock enterprise, the integration service, the dashboard"
        f"{' and simulated calls' if len(parts) > 3 else ''} (Ctrl-C stops them all)..."
    )

    def ready() -> None:
        typer.echo(
            _ready_banner(
                mocks_url, layer_url, board_url, traffic, secrets_file, time.monotonic() - started
            )
        )

    try:
        code = supervisor.run(on_ready=ready)
    except RuntimeError as exc:
        typer.echo(f"up: {exc}", err=True)
        raise typer.Exit(1) from exc
    raise typer.Exit(code)


def _ready_banner(
    mocks_url: str, layer_url: str, board_url: str, traffic: str, secrets: Path, took: float
) -> str:
    from mocks.dataset.cast import CLEAN

    calls = "none (--traffic 0)" if traffic in ("0", "0/s", "none") else f"{traffic}, simulated"
    rule = "-" * 78
    return "\n".join(
        (
            rule,
            f"Switchboard is up ({took:.0f} s). Open the dashboard: {board_url}",
            f"  integration service  {layer_url}  (API docs at {layer_url}/docs)",
            f"  mock enterprise      {mocks_url}  (every system listed at {mocks_url}/)",
            f"  background calls     {calls}",
            "First call to try, the clean example caller (docs/example-callers.md):",
            f"  source {secrets}",
            f"  curl -s -X POST {layer_url}/calls "
            '-H "authorization: Bearer $SWITCHBOARD_INTEGRATION_API_TOKEN" '
            f"-H 'content-type: application/json' -d '{{\"phone\": \"{CLEAN.phone}\"}}'",
            "Ctrl-C stops everything.",
            rule,
        )
    )


def _integration_secrets() -> tuple[dict[str, str], Path]:
    from integration.access import (
        API_TOKEN_ENV,
        PAYMENTS_WEBHOOK_SECRET_ENV,
        SECRETS_FILE,
        VAPI_SECRET_ENV,
        Access,
    )
    from integration.settings import IntegrationSettings

    settings = IntegrationSettings()
    access = Access.of(settings, host="127.0.0.1")  # `up` serves on loopback
    secrets = {
        API_TOKEN_ENV: access.api_token,
        VAPI_SECRET_ENV: access.vapi_secret,
        # The payments mock signs its events with it (mocks/settings.py reads this name).
        PAYMENTS_WEBHOOK_SECRET_ENV: access.payments_webhook_secret,
    }
    return secrets, settings.state_dir / SECRETS_FILE


@cli.command()
def dataset(
    customers: CustomersOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Generate the shared dataset and print what is in it (and how long it took)."""
    from mocks.dataset import generate_dataset
    from mocks.dataset.cast import CAST
    from mocks.dataset.mess import MESS_RATES

    settings = _mock_settings(customers=customers, seed=seed)
    started = time.perf_counter()
    data = generate_dataset(customers=settings.customers, seed=settings.seed)
    elapsed = time.perf_counter() - started
    typer.echo(f"generated in {elapsed:.2f}s")
    # The same value the running mocks report at GET /database/ (dataset.fingerprint).
    typer.echo(f"fingerprint {data.fingerprint()}")
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
    typer.echo("example callers (docs/example-callers.md):")
    for caller in CAST:
        found = data.customer_by_phone(caller.phone)
        who = f"{found.customer_id} {found.first_name} {found.last_name}" if found else "nobody"
        typer.echo(f"  {caller.role:<9} {caller.phone}  {who}: {caller.what}")
    typer.echo("configured mess rates:")
    for name, rate in MESS_RATES.items():
        typer.echo(f"  {name:<32} {rate:>6.1%}")


register_traffic_commands(cli)
register_bench_commands(cli)
register_design_commands(cli)


def main() -> None:
    cli()
