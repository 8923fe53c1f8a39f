"""Running one tool for a live call: validate, time, run under the turn's budget, record.

    run(call_id, name, arguments, turn_budget_ms, filler_threshold_ms) -> ToolResult

The result goes on the call's record (``GET /calls/{id}``) and out as a ``tool`` event.
A barge-in cancels the call's reads in flight: their tool answers ``failed`` with
``data.cancelled`` and says nothing. A handler that breaks (our bug) answers with a plain
apology and asks for a person, never with the exception's text.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from integration.errors import InvalidInput
from integration.outbox.store import CallEnded
from integration.policies.deadline import Deadline
from integration.policies.executor import SourceExecutor
from integration.tools.args import FieldProblem
from integration.tools.context import ReadCancelled, ToolContext
from integration.tools.registry import TOOLS, ToolSpec
from integration.tools.result import Escalate, Outcome, ToolResult, safe_say

if TYPE_CHECKING:
    from integration.bootstrap import Integration
    from integration.service.calls import CallRecord

__all__ = [
    "DEFAULT_FILLER_THRESHOLD_MS",
    "DEFAULT_TURN_BUDGET_MS",
    "CallHasEnded",
    "ToolArgumentsError",
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


class CallHasEnded(Exception):
    pass


class ToolArgumentsError(Exception):
    """Arguments refused: ``errors`` in FastAPI's 422 shape, never with the input."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class ToolRuntime:
    def __init__(self, integration: Integration, tools: Mapping[str, ToolSpec] = TOOLS) -> None:
        self.integration = integration
        self.tools = tools
        self.clock = integration.lookup.clock
        self._reads: dict[str, set[asyncio.Task[Any]]] = {}
        self._own_executors: dict[str, SourceExecutor] = {}

    # -- what contexts use ----------------------------------------------------------------

    def read_executor(self, system: str) -> SourceExecutor:
        """The read path's executor for ``system``; for a system the caller lookup does not
        read (the calendar's free/busy), one of the tools' own under the same policy, so a
        live caller's read never waits behind background deliveries' bulkhead slots."""
        found = self.integration.executors.get(system) or self._own_executors.get(system)
        if found is None:
            settings = self.integration.settings
            found = SourceExecutor(
                system, self.integration.policies.for_system(system), clock=self.clock,
                sleep=asyncio.sleep, rng=random.Random(f"{settings.seed}:tools:{system}"),
                on_attempt=self.integration.sink.record_attempt,
            )  # fmt: skip
            self._own_executors[system] = found
        return found

    def reads_of(self, call_id: str) -> set[asyncio.Task[Any]]:
        return self._reads.setdefault(call_id, set())

    def forget_reads(self, call_id: str) -> None:
        if not self._reads.get(call_id, True):
            del self._reads[call_id]

    # -- the API --------------------------------------------------------------------------

    def barge_in(self, call_id: str) -> int:
        """Cancel the call's reads in flight; how many. Writes are outbox effects already."""
        reads = list(self._reads.get(call_id, ()))
        for task in reads:
            task.cancel()
        return len(reads)

    def record(self, call_id: str) -> CallRecord:
        found = self.integration.calls.get(call_id)
        if found is None:
            raise UnknownCall(call_id)
        return found

    async def run(
        self,
        call_id: str,
        name: str,
        arguments: Mapping[str, Any],
        *,
        turn_budget_ms: float = DEFAULT_TURN_BUDGET_MS,
        filler_threshold_ms: float = DEFAULT_FILLER_THRESHOLD_MS,
    ) -> ToolResult:
        started = self.clock()
        spec = self.tools.get(name)
        if spec is None:
            raise UnknownTool(name)
        record = self.record(call_id)
        if record.status == "ended":
            raise CallHasEnded(call_id)
        args = parse_arguments(spec, arguments)
        ctx = ToolContext(
            self, call_id, record, Deadline(turn_budget_ms / 1000, self.clock),
            await self._next_seq(call_id, record),
        )  # fmt: skip
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
            tool=name, call_id=call_id, status=outcome.status,
            say=safe_say(outcome.say) if outcome.say else "", data=outcome.data,
            provenance=outcome.provenance,
            escalate=Escalate(needed=outcome.escalate is not None, reason=outcome.escalate),
            latency_ms=latency_ms, filler_needed=latency_ms > filler_threshold_ms,
            effects=ctx.effects,
        )  # fmt: skip
        record.add_tool_result(result.model_dump(mode="json"))
        self._emit(result)
        return result

    async def _next_seq(self, call_id: str, record: CallRecord) -> int:
        """Invocation numbers name effects, so they must not repeat within a call, even for
        a call registered again after a restart: the first tool looks at what is stored."""
        if "tool_seq" not in record.extra:
            used = [_seq_of(name) for name in await self.integration.outbox.names(call_id)]
            record.extra.setdefault("tool_seq", max(used, default=0))
        record.extra["tool_seq"] += 1
        seq: int = record.extra["tool_seq"]
        return seq

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
        self.integration.sink.emit(
            "tool", call_id=result.call_id, operation=result.tool, outcome=result.status,
            latency_ms=result.latency_ms, detail=detail,
        )  # fmt: skip


def parse_arguments(spec: ToolSpec, arguments: Mapping[str, Any]) -> Any:
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


def _seq_of(name: str) -> int:
    last = name.rsplit("_", 1)[-1]
    return int(last) if name.startswith("tool_") and last.isdigit() else 0
