"""``python -m app simulate``: personas from the mocks' dataset, a run, progress, a summary."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import sys
from pathlib import Path
from typing import TextIO

import httpx

from app.simulator.engine import SimulationConfig, SimulationReport, Simulator
from app.simulator.personas import PersonaBook
from app.simulator.report import live_progress, summary_table, transcript_text

__all__ = ["dataset_shape", "load_personas", "run_simulation", "save_transcripts"]

DEFAULT_SHAPE = (1000, 42)  # the mocks' own defaults (MockSettings)


def dataset_shape(mocks_url: str) -> tuple[int, int, bool]:
    """(customers, seed, asked): what the mocks say they serve, else their defaults."""
    try:
        health = httpx.get(f"{mocks_url.rstrip('/')}/_mock/health", timeout=5).json()
        info = health["dataset"]
        return int(info["customers"]), int(info["seed"]), True
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return (*DEFAULT_SHAPE, False)


def load_personas(mocks_url: str, out: TextIO | None = None) -> PersonaBook:
    from mocks.dataset import generate_dataset

    out = out or sys.stdout  # looked up now: a test runner may have swapped it

    customers, seed, asked = dataset_shape(mocks_url)
    if not asked:
        out.write(f"(the mocks at {mocks_url} did not answer; assuming their defaults: "
                  f"{customers} customers, seed {seed})\n")  # fmt: skip
    return PersonaBook.from_dataset(generate_dataset(customers, seed=seed))


def save_transcripts(report: SimulationReport, path: Path) -> None:
    """One JSON object per call (transcript, tool calls, verdict), oldest first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in report.results:
            out.write(json.dumps(result.as_json(), default=str) + "\n")


async def _run(
    config: SimulationConfig, personas: PersonaBook, out: TextIO, *, quiet: bool
) -> SimulationReport:
    simulator = Simulator(config, personas)
    stop = asyncio.Event()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        # First Ctrl-C (or SIGTERM): stop arriving, let calls under way finish, summarise.
        # A second one: stop now.
        if stop.is_set() and main is not None:
            main.cancel()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    progress = None
    if not quiet:
        progress = asyncio.create_task(live_progress(simulator.tally, config.duration_s, out=out))
    try:
        return await simulator.run(stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if progress is not None:
            progress.cancel()
            await asyncio.gather(progress, return_exceptions=True)


def run_simulation(
    config: SimulationConfig,
    *,
    mocks_url: str,
    transcripts: Path | None = None,
    quiet: bool = False,
    out: TextIO | None = None,
) -> SimulationReport:
    """Run until ``duration_s`` passes or Ctrl-C/SIGTERM, then print the summary."""
    out = out or sys.stdout
    personas = load_personas(mocks_url, out)
    length = "until stopped" if math.isinf(config.duration_s) else f"for {config.duration_s:g} s"
    out.write(
        f"simulating {config.rate_per_s:g} calls/s {length} against "
        f"{config.integration_url} (at most {config.concurrency} at once)\n"
    )
    out.flush()
    report = asyncio.run(_run(config, personas, out, quiet=quiet))
    out.write(summary_table(report) + "\n")
    if report.results:
        sample = next((r for r in report.results if r.status != "ok"), report.results[0])
        out.write("\none call, as it went:\n" + transcript_text(sample) + "\n")
    if transcripts is not None:
        save_transcripts(report, transcripts)
        out.write(f"\ntranscripts of {len(report.results)} calls: {transcripts}\n")
    return report
