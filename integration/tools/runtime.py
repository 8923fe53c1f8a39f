"""Running one tool for a live call: validate, admit, run under the turn's budget, record.

    run(call_id, name, arguments, turn_budget_ms, filler_threshold_ms) -> ToolResult

The call comes from the store (any worker runs any call's tools): admitting a tool gives
it its number within the call. The result goes back to the store (``GET /calls/{id}``)
and out as a ``tool`` event. A barge-in cancels the call's reads in flight: their tool
answers ``failed`` with ``data.cancelled`` and says nothing. With several workers the
barge-in is counted on the call's row, and a worker with reads of that call in flight
sees it within ``barge_in_poll_s``. A handler that breaks (our bug) answers with a plain
apology and asks for a person, never with the exception's text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from integration.errors import InvalidInput
from integration.keepable import unkeepable
from integration.outbox.store import CallEnded
from integration.policies.cache import CachedValue
from integration.policies.deadline import Deadline
from integration.policies.executor import AttemptRecord, SourceExecutor
from integration.policies.models import PolicyBook
from integration.tools.admitted import Booking, CallHasEnded, ToolStart
from integration.tools.args import FieldProblem
from integration.tools.context import ReadCancelled, ToolContext, ToolDeps
from integration.tools.registry import TOOLS, ToolSpec
from integration.tools.result import Escalate, Outcome, ToolResult, safe_say

__all__ = [
    "DEFAULT_FILLER_THRESHOLD_MS",
    "DEFAULT_TURN_BUDGET_MS",
    "CallHasEnded",
    "ToolArgumentsError",
    "ToolCalls",
    "ToolRuntime",
    "UnknownCall",
    "UnknownTool",
]

log = logging.getLogger(__name__)

DEFAULT_TURN_BUDGET_MS = 2500.0
DEFAULT_FILLER_THRESHOLD_MS = 1000.0
_APOLOGY = "I'm sorry, I couldn't do that just now. Let me get a colleague to help."


class UnknownTool(LookupError):
    pass


class UnknownCall(LookupError):
    pass


class ToolArgumentsError(Exception):
    """Arguments refused: ``errors`` in FastAPI's 422 shape, never with the input."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class ToolCalls(Protocol):
    """The calls store, as the runtime uses it."""

    async def begin_tool(self, call_id: str, origin: str | None = None) -> ToolStart | None: ...
    async def finish_tool(
        self,
        call_id: str,
        seq: int,
        result: dict[str, Any],
        *,
        booking: Booking | None = None,
        handover: dict[str, Any] | None = None,
    ) -> None: ...
    async def exists(self, call_id: str, origin: str | None = None) -> bool: ...
    async def barge_in(self, call_id: str) -> int | None: ...
    async def barge_ins(self, call_ids: list[str]) -> dict[str, int]: ...


class ToolRuntime:
    def __init__(
        self,
        deps: ToolDeps,
        calls: ToolCalls,
        *,
        read_executors: Mapping[str, SourceExecutor],
        policies: PolicyBook,
        clock: Callable[[], float],
        on_attempt: Callable[[AttemptRecord], None] | None,
        emit: Callable[..., object],
        seed: int = 42,
        shared_workers: bool = False,
        barge_in_poll_s: float = 0.025,
        tools: Mapping[str, ToolSpec] = TOOLS,
    ) -> None:
        self.deps = deps
        self.calls = calls
        self.tools = tools
        self.clock = clock
        self._read_executors = read_executors
        self._policies = policies
        self._on_attempt = on_attempt
        self._emit_event = emit
        self._seed = seed
        self._shared = shared_workers
        self._poll_s = barge_in_poll_s
        self._reads: dict[str, set[asyncio.Task[Any]]] = {}
        self._barge_ins_seen: dict[str, int] = {}
        self._own_executors: dict[str, SourceExecutor] = {}
        self._watcher: asyncio.Task[None] | None = None

    # -- what contexts use (the ``Reads`` protocol) ----------------------------------------

    def executor(self, system: str) -> SourceExecutor:
        """The read path's executor for ``system``; for a system the caller lookup does not
        read (the calendar's free/busy), one of the tools' own under the same policy, so a
        live caller's read never waits behind background deliveries' bulkhead slots."""
        found = self._read_executors.get(system) or self._own_executors.get(system)
        if found is None:
            found = SourceExecutor(
                system,
                self._policies.for_system(system),
                clock=self.clock,
                sleep=asyncio.sleep,
                rng=random.Random(f"{self._seed}:tools:{system}"),
                on_attempt=self._on_attempt,
            )
            self._own_executors[system] = found
        return found

    def track(self, call_id: str, task: asyncio.Task[Any]) -> None:
        self._reads.setdefault(call_id, set()).add(task)
        if self._shared and (self._watcher is None or self._watcher.done()):
            self._watcher = asyncio.create_task(self._watch_barge_ins(), name="barge-in-watch")

    def untrack(self, call_id: str, task: asyncio.Task[Any]) -> None:
        reads = self._reads.get(call_id)
        if reads is not None:
            reads.discard(task)
            if not reads:
                del self._reads[call_id]
                self._barge_ins_seen.pop(call_id, None)

    async def last_good(self, system: str, operation: str, key: str) -> CachedValue | None:
        return await self.executor(system).recall(operation, key)

    # -- the API --------------------------------------------------------------------------

    async def barge_in(self, call_id: str, origin: str | None = None) -> int | None:
        """Cancel the call's reads in flight here, and tell the other workers; how many were
        cancelled here (None: no such call). Writes are outbox effects already."""
        if self._shared:
            if await self.calls.barge_in(call_id) is None:
                return None
        elif not await self.calls.exists(call_id, origin):
            return None
        return self._cancel_reads(call_id)

    async def run(
        self,
        call_id: str,
        name: str,
        arguments: Mapping[str, Any],
        *,
        turn_budget_ms: float = DEFAULT_TURN_BUDGET_MS,
        filler_threshold_ms: float = DEFAULT_FILLER_THRESHOLD_MS,
        origin: str | None = None,
    ) -> ToolResult:
        started = self.clock()
        spec = self.tools.get(name)
        if spec is None:
            raise UnknownTool(name)
        try:
            args = parse_arguments(spec, arguments)
        except ToolArgumentsError:
            if not await self.calls.exists(call_id, origin):  # an unknown call is a 404 first
                raise UnknownCall(call_id) from None
            raise
        admitted = await self.calls.begin_tool(call_id, origin)  # CallHasEnded once ended
        if admitted is None:
            raise UnknownCall(call_id)
        if self._shared:
            self._barge_ins_seen.setdefault(call_id, admitted.barge_ins)
        ctx = ToolContext(self.deps, self, admitted, Deadline(turn_budget_ms / 1000, self.clock))
        try:
            outcome = await spec.handler(ctx, args)
        except ReadCancelled:
            outcome = Outcome("failed", "", {"cancelled": True})
        except InvalidInput as exc:  # a value only the handler could judge (a phone number)
            raise ToolArgumentsError([_error((exc.field,), exc.message, exc.reason)]) from None
        except CallEnded:
            raise CallHasEnded(call_id) from None
        except Exception:
            log.exception("tool %s failed for call %s", name, call_id)
            outcome = Outcome("failed", _APOLOGY, escalate="tool_error")
        latency_ms = round((self.clock() - started) * 1000, 2)
        result = ToolResult(
            tool=name,
            call_id=call_id,
            status=outcome.status,
            say=safe_say(outcome.say) if outcome.say else "",
            data=outcome.data,
            provenance=outcome.provenance,
            escalate=Escalate(needed=outcome.escalate is not None, reason=outcome.escalate),
            latency_ms=latency_ms,
            filler_needed=latency_ms > filler_threshold_ms,
            effects=ctx.effects,
        )
        await self.calls.finish_tool(
            call_id,
            admitted.seq,
            result.model_dump(mode="json"),
            booking=ctx.booked,
            handover=ctx.handover,
        )
        self._emit(result)
        return result

    async def aclose(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    # -- barge-ins from other workers -----------------------------------------------------

    def _cancel_reads(self, call_id: str) -> int:
        reads = list(self._reads.get(call_id, ()))
        for task in reads:
            task.cancel()
        return len(reads)

    async def _watch_barge_ins(self) -> None:
        """While reads are in flight here, look for barge-ins counted by other workers."""
        while self._reads:
            await asyncio.sleep(self._poll_s)
            watched = list(self._reads)
            if not watched:
                return
            try:
                counts = await self.calls.barge_ins(watched)
            except Exception:  # the store is busy for a moment: look again next time
                log.warning("looking for barge-ins failed", exc_info=True)
                continue
            for call_id, count in counts.items():
                seen = self._barge_ins_seen.get(call_id)
                if seen is not None and count > seen:
                    self._barge_ins_seen[call_id] = count
                    self._cancel_reads(call_id)

    def _emit(self, result: ToolResult) -> None:
        detail: dict[str, Any] = {
            "say": result.say,
            "filler_needed": result.filler_needed,
            "effects": result.effects,
            "provenance": {k: v.status for k, v in result.provenance.items()},
        }
        if result.escalate.needed:
            detail["escalate"] = result.escalate.reason
        if result.data.get("cancelled"):
            detail["cancelled"] = True
        with contextlib.suppress(Exception):
            self._emit_event(
                "tool",
                call_id=result.call_id,
                operation=result.tool,
                outcome=result.status,
                latency_ms=result.latency_ms,
                detail=detail,
            )


def parse_arguments(spec: ToolSpec, arguments: Mapping[str, Any]) -> Any:
    found = unkeepable(dict(arguments))
    if found is not None:
        raise ToolArgumentsError([_error(tuple(found[0]), found[1], "value_error")])
    try:
        return spec.args.model_validate(arguments)
    except ValidationError as exc:
        raise ToolArgumentsError(_errors(exc)) from None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False, include_input=False, include_context=True):
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        problem = (error.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):  # a cross-field rule that names its field
            loc, message = (problem.field,), str(problem)
        errors.append(_error(loc, message, str(error.get("type", "value_error"))))
    return errors


def _error(loc: tuple[Any, ...], message: str, kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": ["body", "arguments", *loc], "msg": message}
