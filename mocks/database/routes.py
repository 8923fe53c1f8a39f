"""HTTP around the database: a look inside (``/database/``) and its chaos actions.

The database is read with SQL, not HTTP; these endpoints are for people and dashboards.
The chaos actions are mounted by the registry under ``/_chaos/database``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.exc import SQLAlchemyError

from mocks.database.faults import FaultNotStarted, FaultNotSupported
from mocks.platform.control import require_token

if TYPE_CHECKING:
    from mocks.database.service import DatabaseService

__all__ = ["LockRequest", "OutageRequest", "SlowRequest", "build_chaos_router", "build_router"]

_MAX_SECONDS = 3600


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long to hold the lock")


class OutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long the file is garbage")


class SlowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., gt=0, le=_MAX_SECONDS, description="how long queries stay slow")
    hold_ms: float = Field(40, gt=0, le=60_000, description="lock held this long ...")
    every_ms: float = Field(50, gt=0, le=60_000, description="... out of every this many ms")

    @field_validator("every_ms")
    @classmethod
    def _leaves_a_gap(cls, every_ms: float, info: ValidationInfo) -> float:
        hold_ms = info.data.get("hold_ms")
        if hold_ms is not None and hold_ms >= every_ms:
            raise ValueError(f"hold_ms ({hold_ms:g}) must be less than every_ms ({every_ms:g})")
        return every_ms


def build_router(service: DatabaseService) -> APIRouter:
    router = APIRouter(tags=["database"])
    store = service.store

    @router.get("/", summary="Where the database is, its dialect and row counts")
    def describe() -> Any:
        try:
            return {**store.describe(), "faults": service.faults.active()}
        except SQLAlchemyError as exc:
            return _unavailable(service, exc)

    @router.get("/health", summary="Whether a new connection can read the database now")
    def health() -> Any:
        try:
            store.ping()
        except SQLAlchemyError as exc:
            return _unavailable(service, exc)
        return {"status": "ok", "dialect": store.dialect}

    return router


def build_chaos_router(service: DatabaseService) -> APIRouter:
    token = service.ctx.settings.chaos_token
    router = APIRouter(dependencies=[Depends(require_token(token))])
    faults = service.faults

    def started(kind: str, start: Any) -> dict[str, Any]:
        try:
            fault = start()
        except FaultNotSupported as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except FaultNotStarted as exc:
            detail = f"the {kind} could not start: {exc}"
            raise HTTPException(status_code=409, detail=detail) from exc
        service.ctx.chaos.stats.count_fault(service.name, kind)
        return fault

    @router.post("/lock", summary="Hold a real exclusive lock for a while")
    def lock(body: LockRequest) -> dict[str, Any]:
        return started("lock", lambda: faults.lock(body.seconds))

    @router.post("/outage", summary="Make the SQLite file unreadable for a while")
    def outage(body: OutageRequest) -> dict[str, Any]:
        return started("outage", lambda: faults.outage(body.seconds))

    @router.post("/slow", summary="Take the lock in a duty cycle, so queries queue")
    def slow(body: SlowRequest) -> dict[str, Any]:
        return started("slow", lambda: faults.slow(body.seconds, body.hold_ms, body.every_ms))

    @router.get("", summary="Active database faults and their remaining time")
    def active() -> dict[str, Any]:
        return {"system": service.name, "faults": faults.active()}

    @router.delete("", summary="Release every database fault now")
    def release() -> dict[str, Any]:
        return {"system": service.name, "released": faults.release_all(), "faults": []}

    return router


def _unavailable(service: DatabaseService, exc: SQLAlchemyError) -> JSONResponse:
    cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    body = service.error_body(503, "unavailable", f"database unavailable: {cause}")
    return JSONResponse(status_code=503, content=body)
