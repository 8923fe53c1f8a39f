"""Starting a call: look the caller up under the call's deadline, store the call, say so.

    start_call(deps, phone, deadline_ms=None, product=None, call_id=None) -> CallRecord

The lookup never fails on a source (late or failing sources come back cached or missing,
each with its reason); a number that is not one is ``InvalidInput``. The call is stored
once the lookup is done, so an id already taken is ``CallExists`` then, and nothing of
the second call is kept. ``queued_ms``, the time the request is thought to have waited
before it was looked at (the worker's loop lag), is spent out of the lookup's deadline:
the caller's answer is due at the deadline they asked for, not that much later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from integration.calls.ids import Origin, new_call_id
from integration.calls.record import CallRecord
from integration.calls.store import CallStore
from integration.events.sink import EventSink
from integration.lookup.view import CallerView

__all__ = ["CallerLookup", "StartCallDeps", "record_lookup", "start_call"]


class CallerLookup(Protocol):
    async def lookup(
        self,
        phone: str,
        *,
        deadline_ms: float | None = None,
        call_id: str | None = None,
        product: str | None = None,
        queued_ms: float = 0.0,
    ) -> CallerView: ...


@dataclass(frozen=True)
class StartCallDeps:
    lookup: CallerLookup
    calls: CallStore
    sink: EventSink


async def start_call(
    deps: StartCallDeps,
    phone: str,
    *,
    deadline_ms: float | None = None,
    product: str | None = None,
    call_id: str | None = None,
    origin: Origin = "api",
    queued_ms: float = 0.0,
) -> CallRecord:
    call_id = call_id or new_call_id()
    view = await deps.lookup.lookup(
        phone, deadline_ms=deadline_ms, call_id=call_id, product=product, queued_ms=queued_ms
    )
    record = await deps.calls.create(call_id, origin, view)
    record_lookup(deps.sink, call_id, view, origin)
    return record


def record_lookup(sink: EventSink, call_id: str, view: CallerView, origin: Origin) -> None:
    """The lookup as a metric and a ``lookup`` event (the dashboard's Calls and Load pages)."""
    action = view.recommendation.action
    sink.metrics.observe_lookup(
        action, view.elapsed_ms / 1000, view.elapsed_ms > view.deadline_ms > 0
    )
    detail: dict[str, Any] = {
        "missing": view.recommendation.missing,
        "cached": view.recommendation.cached,
    }
    if origin != "api":
        detail["source"] = origin
    sink.emit("lookup", call_id=call_id, outcome=action, latency_ms=view.elapsed_ms, detail=detail)
