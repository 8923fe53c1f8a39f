"""Running a scenario: traffic from the simulator while the timeline bends the mocks, then
the outbox drains, the ledgers are counted and the scorecard is judged and kept.

The run leaves the mocks as it found them (every fault it set is cleared, every setting
it changed restored) whether it passes, fails or is interrupted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import httpx

from app.scenarios.chaos import ChaosControl, ControlError
from app.scenarios.model import Scenario
from app.scenarios.scorecard import AppliedEvent, build_scorecard, render_scorecard
from app.scenarios.writes import count_writes, ledger_marks, wait_for_drain
from app.simulator.conversation import Pacing
from app.simulator.engine import SimulationConfig, SimulationReport, Simulator
from app.simulator.personas import PersonaBook
from app.simulator.report import live_progress
from mocks.registry import SYSTEMS

__all__ = [
    "RunObserver",
    "RunOptions",
    "ScenarioRun",
    "ScenarioSetupError",
    "run_scenario",
    "save_scorecard",
]


class ScenarioSetupError(RuntimeError):
    """The stack is not there to run against (the message says which part and where)."""


class RunObserver(Protocol):
    """Told what the run does as it does it, on the run's event loop (the dashboard's
    guided demo narrates from it). ``phase`` is "traffic" (the clock starts), "restored"
    (every fault cleared; ``detail`` lists what could not be), "draining" or "judged"."""

    def applied(self, entry: AppliedEvent) -> None: ...
    def phase(self, name: str, detail: str = "") -> None: ...


@dataclass(frozen=True)
class RunOptions:
    integration_url: str = "http://127.0.0.1:8000"
    mocks_url: str = "http://127.0.0.1:8100"
    chaos_token: str = "switchboard-chaos"
    api_token: str = field(default="", repr=False)
    speed: float = 1.0
    seed: int | None = None
    pacing: Pacing = field(default_factory=Pacing)
    post_results: bool = True
    progress: bool = True
    observer: RunObserver | None = field(default=None, repr=False, compare=False)


@dataclass
class ScenarioRun:
    scorecard: dict[str, Any]
    kept: str  # where the result went (or why it was not kept)
    started_at: str
    report: SimulationReport  # every call, with its transcript

    @property
    def passed(self) -> bool:
        return bool(self.scorecard["passed"])


async def _preflight(integration: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    for http, path, what in (
        (integration, "/health", "integration service"),
        (control, "/_chaos", "mock enterprise's control plane"),
    ):
        try:
            response = await http.get(path)
        except httpx.HTTPError as exc:
            raise ScenarioSetupError(
                f"the {what} at {http.base_url} does not answer ({type(exc).__name__})"
            ) from None
        if response.status_code in (401, 403):
            raise ScenarioSetupError(
                f"the {what} refused the chaos token (HTTP "
                f"{response.status_code}); set --chaos-token"
            )
        if response.status_code != 200:
            raise ScenarioSetupError(f"the {what} answered HTTP {response.status_code}")


async def _play_timeline(
    control: ChaosControl,
    applied: Sequence[AppliedEvent],
    began: float,
    observer: RunObserver | None = None,
) -> None:
    for entry in applied:
        wait = entry.event.at - (time.perf_counter() - began)
        if wait > 0:
            await asyncio.sleep(wait)
        entry.applied_at_s = round(time.perf_counter() - began, 2)
        try:
            entry.done = await control.apply(entry.event)
        except (ControlError, httpx.HTTPError) as exc:
            entry.error = f"not applied: {exc}"
        if observer is not None:
            observer.applied(entry)


def _in_force(applied: Sequence[AppliedEvent], began: float) -> str:
    now = time.perf_counter() - began
    active: dict[str, str] = {}
    for entry in applied:
        event = entry.event
        if entry.applied_at_s is None or entry.error:
            continue
        ends = event.ends_at
        if event.action == "clear" or (ends is not None and now >= ends):
            active.pop(event.system, None)
        else:
            active[event.system] = event.action
    return "in force: " + ", ".join(f"{s} {a}" for s, a in active.items()) if active else ""


def _fault_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, int]]:
    delta: dict[str, dict[str, int]] = {}
    for system, stats in after.items():
        old = (before.get(system) or {}).get("faults_by_kind", {})
        kinds = {k: n - old.get(k, 0) for k, n in stats.get("faults_by_kind", {}).items()}
        kinds = {k: n for k, n in kinds.items() if n > 0 and k != "latency"}
        if kinds:
            delta[system] = kinds
    return delta


async def _keep(integration: httpx.AsyncClient, result: dict[str, Any]) -> str:
    try:
        response = await integration.post("/scenarios/results", json=result)
    except httpx.HTTPError as exc:
        return f"not kept: {type(exc).__name__}"
    if response.status_code == 404:
        return "not kept: the integration service has no POST /scenarios/results yet"
    if response.status_code >= 400:
        return f"not kept: POST /scenarios/results answered HTTP {response.status_code}"
    return f"kept by the integration service ({integration.base_url}/scenarios/results)"


async def payment_events_seen(
    integration: httpx.AsyncClient, deliveries: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """What became of the payment events the mock delivered: sent (distinct ids the layer
    answered 2xx), kept (they came before the charge's answer and were applied when it
    landed), lost (sent, yet not recorded or still pending in the layer) and applied twice
    (an id the layer holds more than once)."""
    sent = {d["event_id"] for d in deliveries if d["status"] == "delivered"}
    if not sent:
        return {"sent": 0, "kept": 0, "lost": 0, "applied_twice": 0}
    response = await integration.get("/payments/status", params={"limit": 1000})
    rows = response.json().get("payments", []) if response.status_code == 200 else []
    seen: dict[str, list[str]] = {}
    for row in rows:
        for event in row.get("events", []):
            seen.setdefault(event["id"], []).append(event["verdict"])
    lost = sum(1 for e in sent if e not in seen or "pending" in seen[e])
    applied = ("applied", "kept_then_applied")
    twice = sum(1 for e in sent if sum(seen.get(e, []).count(v) for v in applied) > 1)
    kept = sum(1 for e in sent if "kept_then_applied" in seen.get(e, []))
    return {"sent": len(sent), "kept": kept, "lost": lost, "applied_twice": twice}


async def run_scenario(
    scenario: Scenario,
    personas: PersonaBook,
    options: RunOptions,
    *,
    out: TextIO | None = None,
) -> ScenarioRun:
    """Run ``scenario`` (as written; ``options.speed`` scales it) and judge it."""
    out = out or sys.stdout  # looked up now: a test runner may have swapped it
    scenario = scenario.scaled(options.speed) if options.speed != 1 else scenario
    headers = {"Authorization": f"Bearer {options.chaos_token}"}
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    async with (
        httpx.AsyncClient(
            base_url=options.integration_url,
            timeout=30,
            headers={"Authorization": f"Bearer {options.api_token}"},
        ) as integration,
        httpx.AsyncClient(base_url=options.mocks_url, headers=headers, timeout=30) as mocks,
    ):
        await _preflight(integration, mocks)
        control = ChaosControl(mocks, layer=integration)
        hooks_before = {d["id"] for d in await control.webhook_deliveries()}
        marks = await ledger_marks(control, [s for s in SYSTEMS if s != "database"])
        automations_before = await control.failed_automation_runs()
        callbacks_before = len(await control.callback_attempts())
        stats_before = await control.stats()
        traffic = scenario.traffic
        config = SimulationConfig(
            integration_url=options.integration_url,
            api_token=options.api_token,
            rate_per_s=traffic.rate,
            duration_s=scenario.duration,
            seed=options.seed,
            concurrency=traffic.concurrency,
            mix=traffic.journeys,
            pacing=options.pacing,
            call_prefix=f"sc-{scenario.name[:20]}",
        )
        simulator = Simulator(config, personas)
        applied = [
            AppliedEvent(event, None) for event in sorted(scenario.timeline, key=lambda e: e.at)
        ]
        out.write(
            f"scenario {scenario.name}: {scenario.duration:g} s of traffic at "
            f"{traffic.rate:g} calls/s, {len(applied)} timeline events\n"
        )
        out.flush()
        began = time.perf_counter()
        observer = options.observer
        if observer is not None:
            observer.phase("traffic")
        timeline = asyncio.create_task(_play_timeline(control, applied, began, observer))
        progress = (
            asyncio.create_task(
                live_progress(
                    simulator.tally,
                    scenario.duration,
                    out=out,
                    extra=lambda: _in_force(applied, began),
                )
            )
            if options.progress
            else None
        )
        try:
            report = await simulator.run()
            await asyncio.wait_for(timeline, timeout=5)
        finally:
            for task in (timeline, progress):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            restore_problems = await control.restore()
            if observer is not None:
                observer.phase("restored", "; ".join(restore_problems))
        for problem in restore_problems:
            out.write(f"warning: could not restore {problem}\n")
        with_effects = [r.call_id for r in report.results if r.effects]
        if observer is not None:
            observer.phase("draining")
        drain = await wait_for_drain(integration, with_effects, scenario.drain_timeout)
        writes = await count_writes(integration, control, report.results, marks)
        callbacks = (await control.callback_attempts())[callbacks_before:]
        hooks = [d for d in await control.webhook_deliveries(5000) if d["id"] not in hooks_before]
        card = build_scorecard(
            scenario,
            report,
            writes,
            drain,
            applied,
            automation_runs_failed=await control.failed_automation_runs() - automations_before,
            callbacks_duplicated=sum(1 for c in callbacks if c.get("duplicated")),
            payment_events=await payment_events_seen(integration, hooks),
            faults_injected=_fault_delta(stats_before, await control.stats()),
        )
        if observer is not None:
            observer.phase("judged")
        kept = "not kept (asked not to post it)"
        if options.post_results:
            result = {
                "name": scenario.name,
                "started_at": started_at,
                "scorecard": card,
                "passed": card["passed"],
            }
            kept = await _keep(integration, result)
    out.write(render_scorecard(card) + f"\n\nresult {kept}\n")
    out.flush()
    return ScenarioRun(scorecard=card, kept=kept, started_at=started_at, report=report)


def save_scorecard(path: Path, scenario: Scenario, run: ScenarioRun) -> None:
    """The run's scorecard as JSON (``scenario run --save``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "name": scenario.name,
        "started_at": run.started_at,
        "passed": run.passed,
        "scorecard": run.scorecard,
    }
    path.write_text(json.dumps(body, indent=2, default=str), encoding="utf-8")
