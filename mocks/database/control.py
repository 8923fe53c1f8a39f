"""``/_chaos/database``: faults that happen to the database itself (bearer-token guarded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from mocks.database.faults import FaultNotStarted, FaultNotSupported
from mocks.database.routes import Database
from mocks.database.service import DatabaseService
from mocks.platform.control import GUARDED

__all__ = ["LockRequest", "OutageRequest", "SlowRequest", "router"]

_MAX_SECONDS = 3600


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long to hold the lock")


class OutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long the file is garbage")


class SlowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long queries stay slow")
    hold_ms: float = Field(40, gt=0, le=60_000, description="lock held this long ...")
    every_ms: float = Field(50, gt=0, le=60_000, description="... out of every this many ms")

    @field_validator("every_ms")
    @classmethod
    def _leaves_a_gap(cls, every_ms: float, info: ValidationInfo) -> float:
        hold_ms = info.data.get("hold_ms")
        if hold_ms is not None and hold_ms >= every_ms:
            raise ValueError("hold_ms must be less than every_ms")
        return every_ms


router = APIRouter(dependencies=GUARDED)


def _started(
    database: DatabaseService, kind: str, start: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    try:
        return database.start_fault(kind, start)
    except FaultNotSupported as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except FaultNotStarted as exc:
        detail = f"the {kind} could not start: {exc}"
        raise HTTPException(status_code=409, detail=detail) from exc


@router.post("/lock", summary="Hold a real exclusive lock for a while")
def lock(body: LockRequest, database: Database) -> dict[str, Any]:
    return _started(database, "lock", lambda: database.faults.lock(body.seconds))


@router.post("/outage", summary="Make the SQLite file unreadable for a while")
def outage(body: OutageRequest, database: Database) -> dict[str, Any]:
    return _started(database, "outage", lambda: database.faults.outage(body.seconds))


@router.post("/slow", summary="Take the lock in a duty cycle, so queries queue")
def slow(body: SlowRequest, database: Database) -> dict[str, Any]:
    faults = database.faults
    return _started(
        database, "slow", lambda: faults.slow(body.seconds, body.hold_ms, body.every_ms)
    )


@router.get("", summary="Active database faults and their remaining time")
def active(database: Database) -> dict[str, Any]:
    return {"system": database.name, "faults": database.faults.active()}


@router.delete("", summary="Release every database fault now")
def release(database: Database) -> dict[str, Any]:
    return {"system": database.name, "released": database.faults.release_all(), "faults": []}
