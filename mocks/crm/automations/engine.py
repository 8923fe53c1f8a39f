"""Matching CRM changes against the rules, and running the matches in the background.

The CRM calls ``trigger`` right after it applied a write (an after-save flow): the write's
response goes out at once, naming the rules that fired, while each run proceeds as its own
asyncio task. Steps run in order. With ``on_error: continue`` (the default) a failed step
does not stop the steps after it, except those that need what it would have made (the
owner); with ``on_error: stop`` the rest are skipped. A run with any failed step is failed.

Writes made by a run's CRM steps trigger rules too, as in Salesforce, up to a depth of
``MAX_DEPTH`` so that two rules feeding each other cannot loop forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from mocks.crm.automations.models import Rule, RuleSet
from mocks.crm.automations.runs import Run, RunStatus, StepResult, Trigger
from mocks.crm.automations.steps import CrmWriter, RunScope, StepRunner, step_key
from mocks.crm.schema import SOBJECTS
from mocks.platform.service import SystemContext

__all__ = ["MAX_DEPTH", "MAX_WAIT_S", "AutomationEngine"]

MAX_DEPTH = 3
MAX_WAIT_S = 10.0  # longest long-poll on the runs endpoint
_SYSTEM_FIELDS = frozenset({"Id", "CreatedDate", "LastModifiedDate"})
# How many runs deep the current write is (0: a client's own write).
_depth: ContextVar[int] = ContextVar("automation_depth", default=0)


class AutomationEngine:
    def __init__(
        self,
        ctx: SystemContext,
        crm: CrmWriter,
        shipped: RuleSet,
        *,
        on_finished: Callable[[Run], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.on_finished = on_finished  # told of each run that ran to its end
        self.shipped = shipped
        self.rules = shipped
        self.runner = StepRunner(ctx, crm)
        self.runs: dict[str, Run] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.runner.open()

    async def stop(self) -> None:
        await _cancel_and_wait(list(self._tasks))
        await self.runner.close()

    def reset(self) -> None:
        """Shipped rules, first rep again, no runs; runs under way are cancelled first.

        ``/_mock/reset`` calls this from a worker thread: it waits (briefly) for the
        cancelled runs to end on the event loop, so none writes after the reset."""
        tasks = list(self._tasks)
        loop = self._loop
        if tasks and loop is not None and loop.is_running():
            if _running_loop() is loop:
                for task in tasks:
                    task.cancel()
            else:
                future = asyncio.run_coroutine_threadsafe(_cancel_and_wait(tasks), loop)
                with contextlib.suppress(concurrent.futures.TimeoutError):
                    future.result(timeout=2.0)
        self.rules = self.shipped
        self.runner.reset()
        self.runs = {}

    # -- triggering --------------------------------------------------------------------

    def trigger(
        self, sobject: str, record_id: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> list[str]:
        """Start a run for every rule the change matches; returns the rules' names."""
        loop = _running_loop()
        depth = _depth.get()
        if loop is None or depth >= MAX_DEPTH:
            return []
        self._loop = loop
        event = "created" if before is None else "updated"
        matched = [r for r in self.rules.rules if _matches(r, sobject, event, before, after)]
        if not matched:
            return []
        trigger = Trigger(sobject, event, record_id, _changed_fields(sobject, before, after))
        for rule in matched:
            run = self._new_run(rule, trigger)
            scope = RunScope(
                run.id,
                rule.name,
                sobject,
                dict(after),
                trigger.changed_fields,
                self.ctx.now().date(),
            )
            task = loop.create_task(self._execute(rule, run, scope, depth + 1), name=run.id)
            self._tasks.add(task)
            task.add_done_callback(self._settled(run))
        return [rule.name for rule in matched]

    def _settled(self, run: Run) -> Callable[[asyncio.Task[None]], None]:
        def forget(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if run.status == "running":  # cancelled before its first step began
                run.finish(self.ctx.now().isoformat(), cut_short=True)

        return forget

    def _new_run(self, rule: Rule, trigger: Trigger) -> Run:
        run_id = f"run_{secrets.token_hex(8)}"
        steps = [StepResult(n, step.kind, step_key(run_id, n)) for n, step in enumerate(rule.steps)]
        run = Run(run_id, rule.name, trigger, self.ctx.now().isoformat(), steps)
        self.runs[run_id] = run
        return run

    async def _execute(self, rule: Rule, run: Run, scope: RunScope, depth: int) -> None:
        _depth.set(depth)  # this task's own context: writes its steps make see the depth
        try:
            failed = False
            for step, result in zip(rule.steps, run.steps, strict=True):
                if failed and rule.on_error == "stop":
                    result.skip("an earlier step failed and the rule says on_error: stop")
                    continue
                await self.runner.run(step, result, scope)
                failed = failed or result.status == "failed"
        except asyncio.CancelledError:
            run.finish(self.ctx.now().isoformat(), cut_short=True)
            raise
        run.finish(self.ctx.now().isoformat())
        if self.on_finished is not None:
            self.on_finished(run)

    # -- looking at runs ----------------------------------------------------------------

    def find(
        self,
        rule: str | None = None,
        status: RunStatus | None = None,
        record_id: str | None = None,
    ) -> list[Run]:
        return [
            run
            for run in self.runs.values()
            if (rule is None or run.rule == rule)
            and (status is None or run.status == status)
            and (record_id is None or run.trigger.record_id == record_id)
        ]

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no run is under way (runs their steps start included); True if so."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout_s, MAX_WAIT_S)
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True


def _matches(
    rule: Rule, sobject: str, event: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> bool:
    trigger = rule.trigger
    return (
        rule.enabled
        and trigger.object == sobject
        and trigger.event == event
        and all(condition.holds(before, after) for condition in trigger.when)
    )


def _changed_fields(
    sobject: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> tuple[str, ...]:
    names = [name for name in SOBJECTS[sobject].field_names if name not in _SYSTEM_FIELDS]
    if before is None:
        return tuple(name for name in names if after.get(name) is not None)
    return tuple(name for name in names if before.get(name) != after.get(name))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
