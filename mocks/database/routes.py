"""HTTP around the database: a look inside (``/database/``).

The database is read with SQL, not HTTP; these endpoints are for people and dashboards.
Its chaos actions are in ``control.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from mocks.database.service import DatabaseService
from mocks.platform.apidocs import GATEWAY_STATUSES, BasicError, error_responses
from mocks.platform.state import service_in

__all__ = ["Database", "current_database", "router"]

router = APIRouter(
    tags=["database"],
    responses=error_responses(
        BasicError, *GATEWAY_STATUSES, descriptions={"5XX": "503 when the database cannot be read"}
    ),
)


async def current_database(request: Request) -> DatabaseService:
    return service_in(request, DatabaseService)


Database = Annotated[DatabaseService, Depends(current_database)]


@router.get("/", summary="Where the database is, its dialect and row counts")
def describe(database: Database) -> Any:
    try:
        return {**database.store.describe(), "faults": database.faults.active()}
    except SQLAlchemyError as exc:
        return _unavailable(database, exc)


@router.get("/health", summary="Whether a new connection can read the database now")
def health(database: Database) -> Any:
    try:
        database.store.ping()
    except SQLAlchemyError as exc:
        return _unavailable(database, exc)
    return {"status": "ok", "dialect": database.store.dialect}


def _unavailable(database: DatabaseService, exc: SQLAlchemyError) -> JSONResponse:
    cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    body = database.error_body(503, "unavailable", f"database unavailable: {cause}")
    return JSONResponse(status_code=503, content=body)
