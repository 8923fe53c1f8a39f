"""``python -m app design FLOW`` and ``python -m app blast-radius SYSTEM``: the system map
read as a design review or as what breaks when one system fails."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from integration.policies.models import PolicyBook
    from integration.systemmap.model import SystemMap

__all__ = ["register"]


def _load(map_file: Path | None) -> tuple[SystemMap, PolicyBook]:
    from integration.policies.models import DEFAULT_POLICY_FILE
    from integration.systemmap.model import load_system_map

    try:
        return load_system_map(map_file or DEFAULT_POLICY_FILE)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--map") from exc


MapOpt = Annotated[
    Path | None,
    typer.Option(
        "--map", exists=True, help="The system map (default integration/config/system_map.yaml)."
    ),
]


def design(
    flow: Annotated[str, typer.Argument(help="A flow of the system map, e.g. booking.")],
    out: Annotated[Path | None, typer.Option(help="Write the review here (Markdown).")] = None,
    map_file: MapOpt = None,
) -> None:
    """Write an integration design review of a flow: sources, destinations, path, order,
    failure modes, recovery, capacity and ownership, from the system map and its policies."""
    from integration.systemmap.review import design_review

    system_map, policies = _load(map_file)
    if flow not in system_map.flows:
        known = ", ".join(sorted(system_map.flows))
        raise typer.BadParameter(f"no flow {flow!r}; the map has: {known}", param_hint="FLOW")
    text = design_review(system_map, policies, flow)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote the design review of {flow} to {out}")


def blast_radius(
    system: Annotated[str, typer.Argument(help="A system of the map, e.g. crm.")],
    slow: Annotated[bool, typer.Option("--slow", help="Slow rather than down.")] = False,
    map_file: MapOpt = None,
) -> None:
    """If SYSTEM is down (or slow): which flows fail, degrade or are delayed, what the
    caller hears, and who gets paged."""
    from integration.systemmap.blast import blast_radius as compute

    system_map, policies = _load(map_file)
    if system not in system_map.systems:
        known = ", ".join(sorted(system_map.systems))
        raise typer.BadParameter(f"no system {system!r}; the map has: {known}", param_hint="SYSTEM")
    radius = compute(system_map, policies, system, "slow" if slow else "down")
    typer.echo(f"If {system} is {radius.condition}:")
    for impact in radius.flows:
        typer.echo(f"  {impact.flow:<20} {impact.verdict}")
        for step in impact.steps:
            typer.echo(f"      {step.step}: {step.why}")
        if impact.caller_hears:
            typer.echo(f'      the caller hears: "{impact.caller_hears}"')
    typer.echo("Paged: " + "; ".join(radius.paged))


def register(cli: typer.Typer) -> None:
    cli.command()(design)
    cli.command("blast-radius")(blast_radius)
