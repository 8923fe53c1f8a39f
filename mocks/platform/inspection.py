"""``/_mock``: looking inside the mocks (ledgers, systems) and resetting them; ``/`` says what
is served. Each system's own ``/_mock/<name>/...`` extras are added by the registry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from mocks.platform.control import GUARDED, unknown_system
from mocks.platform.service import MockService
from mocks.platform.state import enterprise_of

__all__ = ["index_router", "router"]

router = APIRouter(prefix="/_mock", tags=["inspection"])
index_router = APIRouter()


def _service_named(request: Request, system: str) -> MockService:
    services = enterprise_of(request).services
    service = services.get(system)
    if service is None:
        raise unknown_system(services, ("path", "system"))
    return service


@index_router.get("/", summary="What is served here")
def index(request: Request) -> dict[str, Any]:
    return {
        "name": "Switchboard mock enterprise",
        "systems": [service.describe() for service in enterprise_of(request).services.values()],
        "chaos": "/_chaos (Authorization: Bearer <chaos token>)",
        "inspection": "/_mock/systems, /_mock/<system>/ledger",
    }


@router.get("/health", summary="Liveness, the systems served and the dataset in use")
def health(request: Request) -> dict[str, Any]:
    enterprise = enterprise_of(request)
    return {
        "status": "ok",
        "systems": sorted(enterprise.services),
        "dataset": dict(enterprise.dataset_info),
    }


@router.get("/systems", summary="Every system with its vendor, prefix and docs")
def systems(request: Request) -> list[dict[str, Any]]:
    return [service.describe() for service in enterprise_of(request).services.values()]


@router.get("/{system}/ledger", summary="Effects the system applied, with idempotency keys")
def ledger(
    request: Request,
    system: str,
    since: int = Query(0, ge=0, description="skip the first N entries"),
    operation: str | None = Query(None, description="only this operation"),
) -> dict[str, Any]:
    return _service_named(request, system).ledger.as_json(since, operation)


@router.post("/{system}/reset", dependencies=GUARDED, summary="Back to the seeded state")
def reset_one(request: Request, system: str) -> dict[str, str]:
    _service_named(request, system).reset()
    return {"system": system, "status": "reset"}


@router.post("/reset", dependencies=GUARDED, summary="Reset every system")
def reset_all(request: Request) -> dict[str, Any]:
    services = enterprise_of(request).services
    for service in services.values():
        service.reset()
    return {"status": "reset", "systems": sorted(services)}
