"""``/_chaos/core``: the core's own faults, not about one request (bearer-token guarded).

GET    /_chaos/core/batch-window        the schedule, whether it is open, refusals so far
PUT    /_chaos/core/batch-window        {"nightly": "02:00-02:30"} (UTC; "" for none)
POST   /_chaos/core/batch-window        {"seconds": 60}: open a window now
DELETE /_chaos/core/batch-window        end a forced window now
POST   /_chaos/core/sessions/expire     end every live session (a core restart)
GET    /_chaos/core/config              session lifetime and service times
PUT    /_chaos/core/config              {"session_ttl_s": 30, "service_ms": 200}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from mocks.core.batch import parse_schedule
from mocks.core.service import CoreService
from mocks.platform.control import GUARDED
from mocks.platform.state import service_in

__all__ = ["BatchForce", "BatchSchedule", "CoreConfig", "router"]

_MAX_SECONDS = 86_400


class BatchForce(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long the window stays open")


class BatchSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nightly: str = Field(..., max_length=11, description="HH:MM-HH:MM in UTC, or empty for none")


class CoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    session_ttl_s: float | None = Field(
        None, gt=0, le=_MAX_SECONDS, description="new sessions last"
    )
    service_ms: float | None = Field(
        None, ge=0, le=30_000, description="every operation takes this long inside the core"
    )


async def current_core(request: Request) -> CoreService:
    return service_in(request, CoreService)


Core = Annotated[CoreService, Depends(current_core)]
router = APIRouter(dependencies=GUARDED)


@router.get("/batch-window", summary="The batch window: schedule, state, refusals")
async def batch_window(core: Core) -> dict[str, Any]:
    return core.batch.describe()


@router.put("/batch-window", summary="Set the nightly schedule (UTC)")
async def set_schedule(body: BatchSchedule, core: Core) -> dict[str, Any]:
    try:
        core.batch.schedule = parse_schedule(body.nightly)
    except ValueError as exc:
        detail = [{"type": "value_error", "loc": ["body", "nightly"], "msg": str(exc)}]
        raise HTTPException(status_code=422, detail=detail) from None
    return core.batch.describe()


@router.post("/batch-window", summary="Open a batch window now, for some seconds")
async def force_window(body: BatchForce, core: Core) -> dict[str, Any]:
    core.batch.force(body.seconds)
    core.ctx.chaos.stats.count_fault(core.name, "batch_window_forced")
    return core.batch.describe()


@router.delete("/batch-window", summary="End a forced batch window now")
async def end_window(core: Core) -> dict[str, Any]:
    return {**core.batch.describe(), "ended": core.batch.end_forced()}


@router.post("/sessions/expire", summary="End every live session now")
async def expire_sessions(core: Core) -> dict[str, Any]:
    return {"expired": core.sessions.expire_all()}


@router.get("/config", summary="Session lifetime, live sessions, each operation's service time")
async def config(core: Core) -> dict[str, Any]:
    return {
        "session_ttl_s": core.sessions.ttl_s,
        "sessions_live": core.sessions.live(),
        "service_ms": core.service_ms,
    }


@router.put("/config", summary="Change the session lifetime or make every operation slow")
async def set_config(body: CoreConfig, core: Core) -> dict[str, Any]:
    if body.session_ttl_s is not None:
        core.sessions.ttl_s = body.session_ttl_s
    if body.service_ms is not None:
        core.service_ms = dict.fromkeys(core.service_ms, body.service_ms)
    return {"session_ttl_s": core.sessions.ttl_s, "service_ms": core.service_ms}
