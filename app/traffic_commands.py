"""``python -m app simulate`` and ``python -m app scenario ...``: scripted calls at a
running stack, plain or through an incident's timeline of faults."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from app.cli_options import IntegrationUrlOpt, MocksUrlOpt

if TYPE_CHECKING:
    from app.simulator.engine import SimulationReport

__all__ = ["register"]


def _simulator_settings(**overrides: Any) -> Any:
    from app.simulator.settings import SimulatorSettings

    try:
        return SimulatorSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _parsed(parse: Any, value: str, flag: str) -> float:
    try:
        return float(parse(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from exc


def _mix(text: str | None) -> dict[str, float] | None:
    """``book_appointment=2,make_payment=1`` -> weights (None: the default mix)."""
    if not text:
        return None
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        try:
            mix[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise typer.BadParameter(
                f"{part!r}: write journey=weight", param_hint="--mix"
            ) from None
    return mix


def simulate(
    rate: Annotated[str, typer.Option(help="Calls started per second: 5/s, 300/min or 2.")] = "5/s",
    duration: Annotated[
        str, typer.Option(help="How long calls arrive: 60s, 2m, 1m30s, or forever.")
    ] = "60s",
    integration_url: IntegrationUrlOpt = None,
    mocks_url: MocksUrlOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed of arrivals and scripts.")] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=1000, help="Calls under way at most (default 64).")
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(help="Journey weights, e.g. make_payment=3,eligibility=1 (default: all)."),
    ] = None,
    think_ms: Annotated[
        float | None,
        typer.Option(min=0, help="A caller's pause before speaking, ms (default 250)."),
    ] = None,
    transcripts: Annotated[
        Path | None, typer.Option(help="Write every call (transcript, tools, verdict) as JSONL.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress line (background traffic).")
    ] = False,
) -> None:
    """Drive scripted calls at the integration service (Poisson arrivals); show progress and a
    summary. Journeys: book_appointment, loan_status, make_payment, eligibility,
    complaint_escalation."""
    from app.simulator.engine import SimulationConfig
    from app.simulator.foreground import run_in_foreground
    from app.simulator.journeys import DEFAULT_MIX
    from app.simulator.personas import load_personas
    from app.simulator.units import parse_duration, parse_rate

    per_s = _parsed(parse_rate, rate, "--rate")
    forever = duration.strip().lower() in ("forever", "inf")
    seconds = math.inf if forever else _parsed(parse_duration, duration, "--duration")
    if seconds <= 0:
        raise typer.BadParameter("must be above 0", param_hint="--duration")
    settings = _simulator_settings(
        integration_url=integration_url,
        mocks_url=mocks_url,
        concurrency=concurrency,
        think_ms=think_ms,
    )
    weights = _mix(mix)
    try:
        config = SimulationConfig(
            integration_url=settings.integration_url,
            api_token=settings.api_token,
            rate_per_s=per_s,
            duration_s=seconds,
            seed=seed,
            concurrency=settings.concurrency,
            pacing=settings.pacing(),
            mix=weights or DEFAULT_MIX,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mix") from exc
    try:
        personas = load_personas(settings.mocks_url)
        length = "until stopped" if math.isinf(seconds) else f"for {seconds:g} s"
        typer.echo(
            f"simulating {config.rate_per_s:g} calls/s {length} against "
            f"{config.integration_url} (at most {config.concurrency} at once)"
        )
        _print_summary(run_in_foreground(config, personas, quiet=quiet), transcripts)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _print_summary(report: SimulationReport, transcripts: Path | None) -> None:
    from app.simulator.report import save_transcripts, summary_table, transcript_text

    typer.echo(summary_table(report))
    if report.results:
        sample = next((r for r in report.results if r.status != "ok"), report.results[0])
        typer.echo("\none call, as it went:\n" + transcript_text(sample))
    if transcripts is not None:
        save_transcripts(report, transcripts)
        typer.echo(f"\ntranscripts of {len(report.results)} calls: {transcripts}")


scenario = typer.Typer(
    help="Scripted incidents: faults on a timeline, simulated calls through them, a scorecard.",
    no_args_is_help=True,
)


@scenario.command("list")
def scenario_list(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show each timeline and expectation.")
    ] = False,
) -> None:
    """The shipped scenarios (app/scenarios/catalog), with their length and what they test."""
    from app.scenarios.library import ScenarioError, catalog_table

    try:
        typer.echo(catalog_table(verbose=verbose))
    except ScenarioError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@scenario.command("run")
def scenario_run(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="A scenario name (see `scenario list`) or a YAML file."
        ),
    ],
    speed: Annotated[
        float, typer.Option(min=0.01, max=1000, help="Run the timeline N times faster.")
    ] = 1.0,
    integration_url: IntegrationUrlOpt = None,
    mocks_url: MocksUrlOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed of arrivals and scripts.")] = None,
    chaos_token: Annotated[
        str | None, typer.Option(help="Bearer token of the mocks' control plane.")
    ] = None,
    save: Annotated[
        Path | None, typer.Option(help="Also write the scorecard to this JSON file.")
    ] = None,
    post: Annotated[
        bool, typer.Option(help="Keep the result on the integration service (for the dashboard).")
    ] = True,
    transcripts: Annotated[
        Path | None, typer.Option(help="Write every call (transcript, tools, verdict) as JSONL.")
    ] = None,
) -> None:
    """Run one scenario against the running stack and print its scorecard; exits 1 when an
    expectation fails, 2 when the scenario or the stack is not usable."""
    from app.scenarios.library import ScenarioError, find_scenario
    from app.scenarios.runner import RunOptions, ScenarioSetupError, run_scenario, save_scorecard
    from app.simulator.personas import load_personas
    from app.simulator.report import save_transcripts

    settings = _simulator_settings(
        integration_url=integration_url, mocks_url=mocks_url, chaos_token=chaos_token
    )
    options = RunOptions(
        integration_url=settings.integration_url,
        mocks_url=settings.mocks_url,
        chaos_token=settings.chaos_token,
        api_token=settings.api_token,
        speed=speed,
        seed=seed,
        pacing=settings.pacing(),
        post_results=post,
    )
    try:
        chosen = find_scenario(name)
        run = asyncio.run(run_scenario(chosen, load_personas(options.mocks_url), options))
        if transcripts is not None:
            save_transcripts(run.report, transcripts)
            typer.echo(f"transcripts of {len(run.report.results)} calls: {transcripts}")
        if save is not None:
            save_scorecard(save, chosen, run)
            typer.echo(f"scorecard saved to {save}")
    except (ScenarioError, ScenarioSetupError) as exc:
        typer.echo(f"scenario: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(0 if run.passed else 1)


def register(cli: typer.Typer) -> None:
    cli.command()(simulate)
    cli.add_typer(scenario, name="scenario")
