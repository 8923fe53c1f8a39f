"""``/_mock``: looking inside the mocks (ledgers, systems) and resetting them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Query

from mocks.platform.control import require_token, unknown_system
from mocks.platform.service import MockService

__all__ = ["inspection_router"]


def inspection_router(
    services: Mapping[str, MockService], token: str, dataset_info: Callable[[], dict[str, Any]]
) -> APIRouter:
    router = APIRouter(prefix="/_mock", tags=["inspection"])
    guarded = [Depends(require_token(token))]

    def service_named(system: str) -> MockService:
        service = services.get(system)
        if service is None:
            raise unknown_system(system, services, ("path", "system"))
        return service

    @router.get("/health", summary="Liveness, the systems served and the dataset in use")
    def health() -> dict[str, Any]:
        return {"status": "ok", "systems": sorted(services), "dataset": dataset_info()}

    @router.get("/systems", summary="Every system with its vendor, prefix and docs")
    def systems() -> list[dict[str, Any]]:
        return [service.describe() for service in services.values()]

    @router.get("/{system}/ledger", summary="Effects the system applied, with idempotency keys")
    def ledger(
        system: str,
        since: int = Query(0, ge=0, description="skip the first N entries"),
        operation: str | None = Query(None, description="only this operation"),
    ) -> dict[str, Any]:
        return service_named(system).ledger.as_json(since, operation)

    @router.post("/{system}/reset", dependencies=guarded, summary="Back to the seeded state")
    def reset_one(system: str) -> dict[str, str]:
        service_named(system).reset()
        return {"system": system, "status": "reset"}

    @router.post("/reset", dependencies=guarded, summary="Reset every system")
    def reset_all() -> dict[str, Any]:
        for service in services.values():
            service.reset()
        return {"status": "reset", "systems": sorted(services)}

    for name, service in services.items():
        extra = service.inspection_router()
        if extra is not None:
            # Services guard their own mutating extras with require_token.
            router.include_router(extra, prefix=f"/{name}")
    return router
