"""Running one guided demo in the background of the dashboard process.

One ``DemoRunner`` serves the whole dashboard (the page keeps it in
``st.cache_resource``), so every viewer watches the same demo, a Streamlit rerun never
restarts it, and a second start while one runs is refused. A demo is a scenario of the
catalog run by ``app.scenarios.run_scenario`` (traffic from the simulator, the timeline
applied through the mocks' control plane, the scorecard judged and kept by the
integration service) on an event loop of its own thread, while two watchers feed the
narrator: the layer's events (``GET /events``, long-polled) and the mocks' chaos state
and CRM sessions. Everything goes over HTTP.

Bounded: the run is cancelled past its traffic, the outbox's drain and a margin; the
story keeps at most ``Narrator.most_lines`` lines. Stopping cancels the run, whose own
clean-up clears every fault it set; the runner then clears the scenario's systems again,
and reads the chaos state back to say what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import httpx

from app.dashboard.demo.incidents import PACES, Incident
from app.dashboard.demo.narration import Line, Narrator
from app.dashboard.demo.words import name
from app.scenarios import RunOptions, Scenario, ScenarioSetupError, find_scenario, run_scenario
from app.scenarios.chaos import ChaosControl, ControlError
from app.scenarios.scorecard import AppliedEvent
from app.simulator.personas import PersonaBook, load_personas

__all__ = ["DemoBusy", "DemoRunner", "DemoTargets", "DemoView", "Phase", "newest_seq"]

Phase = Literal["idle", "starting", "running", "draining", "done", "stopped", "failed"]
RUNNING: frozenset[str] = frozenset({"starting", "running", "draining"})
MARGIN_S = 60.0  # beyond traffic and the outbox's drain, before a run is cut off


class DemoBusy(RuntimeError):
    """A demo is already running (one at a time for the whole dashboard)."""


@dataclass(frozen=True)
class DemoTargets:
    integration_url: str
    mocks_url: str
    api_token: str = field(default="", repr=False)
    chaos_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class DemoView:
    """What the page draws: a copy, so a redraw never sees a line half-updated."""

    phase: Phase = "idle"
    incident: Incident | None = None
    speed: float = 1.0
    elapsed_s: float = 0.0  # since traffic started (0 before)
    traffic_s: float = 0.0  # how long traffic runs at this speed
    lines: tuple[Line, ...] = ()
    in_force: dict[str, str] = field(default_factory=dict)
    result: dict[str, Any] | None = None  # as kept: name, started_at, passed, scorecard
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.phase in RUNNING


@dataclass
class _Run:
    incident: Incident
    scenario: Scenario  # as it runs (scaled)
    speed: float
    narrator: Narrator
    phase: Phase = "starting"
    traffic_at: float | None = None
    ended_at: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    stop_asked: bool = False
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task[Any] | None = None


class DemoRunner:
    def __init__(
        self,
        targets: DemoTargets,
        *,
        clock: Callable[[], float] = time.time,
        personas: Callable[[str], PersonaBook] | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.targets = targets
        self._clock = clock
        self._personas = personas or _quiet_personas
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._books: dict[str, PersonaBook] = {}

    # -- what the page calls ------------------------------------------------------------

    def start(self, incident: Incident, speed: float) -> None:
        """Start ``incident`` at ``speed`` times as written. DemoBusy while one runs;
        ValueError naming ``speed`` if it is not one of ``PACES``."""
        if speed not in PACES:
            raise ValueError(f"speed: must be one of {', '.join(f'{p:g}' for p in PACES)}")
        scenario = find_scenario(incident.scenario)
        scaled = scenario.scaled(speed) if speed != 1 else scenario
        with self._lock:
            if self._run is not None and self._run.phase in RUNNING:
                raise DemoBusy(f"the demo {self._run.incident.title!r} is still running")
            run = _Run(incident, scaled, speed, Narrator(self._clock(), planned=scaled.systems()))
            self._run = run
        thread = threading.Thread(
            target=asyncio.run, args=(self._main(run),), name="guided-demo", daemon=True
        )
        thread.start()

    def stop(self) -> bool:
        """Stop the running demo (its faults are cleared); False if none was running."""
        with self._lock:
            run = self._run
            if run is None or run.phase not in RUNNING:
                return False
            run.stop_asked = True
            loop, task = run.loop, run.task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)
        return True

    def view(self) -> DemoView:
        with self._lock:
            run = self._run
            if run is None:
                return DemoView()
            now = run.ended_at or self._clock()
            return DemoView(
                phase=run.phase,
                incident=run.incident,
                speed=run.speed,
                elapsed_s=now - run.traffic_at if run.traffic_at is not None else 0.0,
                traffic_s=run.scenario.duration,
                lines=tuple(replace(line) for line in run.narrator.lines()),
                in_force=dict(run.narrator.in_force),
                result=run.result,
                error=run.error,
            )

    # -- on the demo's own thread ---------------------------------------------------------

    async def _main(self, run: _Run) -> None:
        t = self.targets
        async with (
            httpx.AsyncClient(
                base_url=t.integration_url,
                headers={"Authorization": f"Bearer {t.api_token}"},
                timeout=10,
            ) as layer,
            httpx.AsyncClient(
                base_url=t.mocks_url,
                headers={"Authorization": f"Bearer {t.chaos_token}"},
                timeout=10,
            ) as mocks,
        ):
            watchers: list[asyncio.Task[None]] = []
            ended: tuple[Phase, str | None] = ("failed", "the demo ended unexpectedly")
            try:
                cursor = await newest_seq(layer)
                personas = await self._book()
                watchers = [
                    asyncio.create_task(self._follow_events(run, layer, cursor)),
                    asyncio.create_task(self._watch_mocks(run, mocks)),
                ]
                ended = await self._scenario(run, personas)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                ended = ("failed", f"the stack could not be read ({type(exc).__name__})")
            finally:
                await asyncio.sleep(self._poll_s * 2)  # the last events, replays included
                for watcher in watchers:
                    watcher.cancel()
                await asyncio.gather(*watchers, return_exceptions=True)
                await self._clear(run, mocks)
                self._end(run, *ended)  # only now may another demo start

    async def _scenario(self, run: _Run, personas: PersonaBook) -> tuple[Phase, str | None]:
        t = self.targets
        options = RunOptions(
            integration_url=t.integration_url,
            mocks_url=t.mocks_url,
            chaos_token=t.chaos_token,
            api_token=t.api_token,
            progress=False,
            observer=_Observer(self, run),
        )
        bound = run.scenario.duration + run.scenario.drain_timeout + MARGIN_S
        task = asyncio.create_task(run_scenario(run.scenario, personas, options, out=io.StringIO()))
        with self._lock:
            run.loop, run.task = asyncio.get_running_loop(), task
            if run.stop_asked:
                task.cancel()
        _, late = await asyncio.wait({task}, timeout=bound)
        if late:
            task.cancel()
        try:
            result = await task
        except asyncio.CancelledError:
            return "stopped", "stopped" if run.stop_asked else f"cut off after {bound:.0f} s"
        except ScenarioSetupError as exc:
            return "failed", str(exc)
        except Exception as exc:  # whatever it was, the page says so and the faults are cleared
            return "failed", f"the scenario run failed ({type(exc).__name__})"
        with self._lock:
            run.result = {
                "name": run.scenario.name,
                "started_at": result.started_at,
                "passed": result.passed,
                "scorecard": result.scorecard,
            }
            run.narrator.verdict(self._clock(), result.scorecard)
        return "done", None

    async def _follow_events(self, run: _Run, layer: httpx.AsyncClient, cursor: int) -> None:
        while True:
            try:
                answer = await layer.get(
                    "/events", params={"cursor": cursor, "limit": 1000, "wait_s": 1}
                )
                body = answer.json() if answer.status_code == 200 else {}
            except (httpx.HTTPError, ValueError):
                body = {}
            events = body.get("events") if isinstance(body, dict) else None
            if not events:
                await asyncio.sleep(self._poll_s)
                continue
            with self._lock:
                run.narrator.events(events)
            cursor = int(body.get("next_cursor", cursor))

    async def _watch_mocks(self, run: _Run, mocks: httpx.AsyncClient) -> None:
        while True:
            sent = self._clock()
            chaos, sessions = await asyncio.gather(
                _json(mocks, "/_chaos"), _json(mocks, "/_mock/crm/tokens")
            )
            with self._lock:
                if chaos is not None:
                    run.narrator.chaos(sent, chaos)
                if sessions is not None:
                    run.narrator.sessions(sent, sessions)
            await asyncio.sleep(self._poll_s)

    async def _clear(self, run: _Run, mocks: httpx.AsyncClient) -> None:
        """Clear the scenario's systems again (the run did; a cut-off run may not have), then
        say what the chaos state shows."""
        control = ChaosControl(mocks)  # the scenarios' own clearing, system by system
        for system in run.scenario.systems():
            with contextlib.suppress(ControlError, httpx.HTTPError):
                await control.clear(system)
        sent = self._clock()
        chaos = await _json(mocks, "/_chaos")
        with self._lock:
            narrator = run.narrator
            if chaos is None:
                narrator.note(sent, "broke", "The mocks' chaos state could not be read back")
                return
            narrator.chaos(sent, chaos)
            mine = sorted(s for s in narrator.in_force if s in run.scenario.systems())
            others = sorted(s for s in narrator.in_force if s not in mine)
            if mine:
                text = "Still injected after the demo: " + ", ".join(name(s) for s in mine)
                narrator.note(sent, "broke", text)
            else:
                text = "Every fault this demo set is cleared"
                if others:
                    text += "; still injected by someone else: " + ", ".join(
                        name(s) for s in others
                    )
                narrator.note(sent, "recovered", text)

    async def _book(self) -> PersonaBook:
        url = self.targets.mocks_url
        if url not in self._books:
            self._books[url] = await asyncio.to_thread(self._personas, url)
        return self._books[url]

    def _end(self, run: _Run, phase: Phase, error: str | None) -> None:
        with self._lock:
            run.phase, run.error, run.ended_at = phase, error, self._clock()
            if phase == "stopped":
                run.narrator.note(self._clock(), "demo", f"The demo was {error}")
            elif error is not None:
                run.narrator.note(self._clock(), "broke", f"The demo failed: {error}")


class _Observer:
    """The scenario run's ``RunObserver``: the timeline as applied, and the run's phases."""

    def __init__(self, runner: DemoRunner, run: _Run) -> None:
        self.runner, self.run = runner, run

    def applied(self, entry: AppliedEvent) -> None:
        event = entry.event
        with self.runner._lock:
            self.run.narrator.applied(
                self.runner._clock(),
                event.system,
                event.action,
                event.model_dump(mode="json", exclude_none=True),
                done=entry.done,
                error=entry.error,
            )

    def phase(self, name: str, detail: str = "") -> None:
        run, now = self.run, self.runner._clock()
        with self.runner._lock:
            if name == "traffic":
                run.phase, run.traffic_at = "running", now
                run.narrator.started_at = now  # the story's clock is the timeline's
                traffic = run.scenario.traffic
                run.narrator.note(
                    now,
                    "demo",
                    f"Calls start: {traffic.rate:g} simulated callers a second for "
                    f"{run.scenario.duration:.0f} s"
                    + (f" (x{run.speed:g})" if run.speed != 1 else ""),
                )
            elif name == "restored":
                text = "Traffic over; the scenario's faults are cleared"
                if detail:
                    text += f" (not all: {detail[:120]})"
                run.narrator.note(now, "demo", text)
            elif name == "draining":
                run.phase = "draining"
                run.narrator.note(now, "demo", "Waiting for the outbox to deliver what it holds")


async def newest_seq(layer: httpx.AsyncClient) -> int:
    """The seq of the layer's newest event. ``GET /events`` has no "from now" cursor, so
    this gallops then halves on one-event reads: a few dozen, however long the history."""

    async def after(cursor: int) -> bool:
        answer = await layer.get("/events", params={"cursor": cursor, "limit": 1})
        answer.raise_for_status()
        return bool(answer.json().get("events"))

    high = 1
    while await after(high):
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if await after(middle):
            low = middle
        else:
            high = middle
    return high if await after(low) else low


async def _json(http: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    try:
        answer = await http.get(path)
        body = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _quiet_personas(mocks_url: str) -> PersonaBook:
    return load_personas(mocks_url, out=io.StringIO())
