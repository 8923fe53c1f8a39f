"""A simulation in the foreground of a terminal: the first Ctrl-C (or SIGTERM) stops new
calls and lets those under way finish, a second one stops at once; a progress line while
it runs."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TextIO

from app.simulator.engine import SimulationConfig, SimulationReport, Simulator
from app.simulator.personas import PersonaBook
from app.simulator.report import live_progress

__all__ = ["run_in_foreground"]


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


def run_in_foreground(
    config: SimulationConfig,
    personas: PersonaBook,
    *,
    quiet: bool = False,
    out: TextIO | None = None,
) -> SimulationReport:
    """Run until ``duration_s`` passes or Ctrl-C/SIGTERM; every call's result."""
    out = out or sys.stdout  # looked up now: a test runner may have swapped it
    return asyncio.run(_run(config, personas, out, quiet=quiet))
