"""``python -m app scenario list | run``: the catalog as a table, one run with its verdict."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from app.scenarios.library import find_scenario, load_catalog
from app.scenarios.runner import RunOptions, ScenarioRun, run_scenario
from app.simulator.command import load_personas, save_transcripts
from app.simulator.units import format_duration

__all__ = ["catalog_table", "run_named"]


def catalog_table(*, verbose: bool = False) -> str:
    scenarios = load_catalog()
    width = max(len(s.name) for s in scenarios)
    lines = []
    for scenario in scenarios:
        length = format_duration(scenario.duration)
        lines.append(f"{scenario.name:<{width}}  {length:>6}  {scenario.description}")
        if verbose:
            for event in scenario.timeline:
                what = f": {event.note}" if event.note else ""
                lines.append(f"{'':<{width}}  {format_duration(event.at):>6}  "
                             f"{event.system} {event.action}{what}")  # fmt: skip
            for expectation in scenario.expectations:
                lines.append(f"{'':<{width}}  {'':>6}  expect {expectation}")
    return "\n".join(lines)


def run_named(
    name: str,
    options: RunOptions,
    *,
    save: Path | None = None,
    transcripts: Path | None = None,
    out: TextIO | None = None,
) -> ScenarioRun:
    """Find, run and judge one scenario; ``save`` also writes the scorecard as JSON,
    ``transcripts`` every call as JSON lines."""
    out = out or sys.stdout
    scenario = find_scenario(name)
    personas = load_personas(options.mocks_url, out)
    run = asyncio.run(run_scenario(scenario, personas, options, out=out))
    if transcripts is not None:
        save_transcripts(run.report, transcripts)
        out.write(f"transcripts of {len(run.report.results)} calls: {transcripts}\n")
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        body = {"name": scenario.name, "started_at": run.started_at, "passed": run.passed,
                "scorecard": run.scorecard}  # fmt: skip
        save.write_text(json.dumps(body, indent=2, default=str), encoding="utf-8")
        out.write(f"scorecard saved to {save}\n")
    return run
