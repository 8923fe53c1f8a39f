"""The registry: which systems exist, and how they are assembled into one ASGI app.

Every system is a ``MockService`` subclass; the registry builds each one from the shared
dataset, mounts it under ``/<name>`` as its own FastAPI app (so each has its own OpenAPI
docs at ``/<name>/docs``), adds the control planes, and wraps it all in the gateway.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from mocks.chaos import ChaosEngine, load_profile_file
from mocks.chaos.routes import chaos_router
from mocks.dataset import Dataset, generate_dataset
from mocks.platform._asgi import quiet_injected_drops
from mocks.platform.gateway import Gateway
from mocks.platform.inspection import inspection_router
from mocks.platform.service import MockService, SystemContext
from mocks.settings import MockSettings

__all__ = ["SYSTEMS", "MockEnterprise", "build_enterprise", "load_system"]

# name -> "module:class". Imported on demand, so one system can run alone without the rest.
SYSTEMS: dict[str, str] = {
    "crm": "mocks.crm:CrmService",
    "database": "mocks.database:DatabaseService",
    "eligibility": "mocks.eligibility:EligibilityService",
    "telephony": "mocks.telephony:TelephonyService",
    "payments": "mocks.payments:PaymentsService",
    "messaging": "mocks.messaging:MessagingService",
    "email": "mocks.email:EmailService",
    "calendar": "mocks.calendar:CalendarService",
    "slack": "mocks.slack:SlackService",
    "analytics": "mocks.analytics:AnalyticsService",
    "erp": "mocks.erp:ErpService",
    "loans": "mocks.loans:LoansService",
}


def load_system(name: str) -> type[MockService]:
    module_name, _, class_name = SYSTEMS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(cls, MockService) and cls.name == name, SYSTEMS[name]
    return cls


@dataclass
class MockEnterprise:
    """The assembled mocks: ``app`` is what a server runs; the rest is for tests and tools."""

    app: Gateway
    api: FastAPI
    services: dict[str, MockService]
    chaos: ChaosEngine
    context: SystemContext

    def set_base_url(self, url: str) -> None:
        self.context.base_url = url.rstrip("/")


def build_enterprise(
    settings: MockSettings,
    *,
    only: Iterable[str] | None = None,
    dataset: Dataset | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> MockEnterprise:
    chosen = _choose(only)
    names = tuple(cls.name for cls in chosen)
    chaos = ChaosEngine(names, seed=settings.seed, clock=clock)
    if settings.faults_file is not None:
        profile = load_profile_file(settings.faults_file)
        unknown = sorted(set(profile.systems) - set(names))
        if unknown:
            raise ValueError(f"{settings.faults_file}: unknown systems {unknown}; known: {names}")
        chaos.apply(profile)
    data = dataset or generate_dataset(customers=settings.customers, seed=settings.seed)
    context = SystemContext(
        settings=settings,
        dataset=data,
        chaos=chaos,
        clock=clock,
        sleep=sleep,
        base_url=settings.base_url,
    )
    services = {cls.name: cls(context) for cls in chosen}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for service in services.values():
            await service.startup()
        yield
        for service in services.values():
            await service.shutdown()

    api = FastAPI(
        title="Switchboard mock enterprise",
        description="Vendor-shaped mock systems that fail on demand. Each system's own docs "
        "are at /<system>/docs.",
        lifespan=lifespan,
    )
    for name, service in services.items():
        api.mount(f"/{name}", _system_app(service))
        extra = service.chaos_router()
        if extra is not None:
            api.include_router(extra, prefix=f"/_chaos/{name}", tags=["chaos"])
    api.include_router(chaos_router(chaos, services, settings.chaos_token))
    api.include_router(
        inspection_router(services, settings.chaos_token, lambda: _dataset_info(data, settings))
    )

    @api.get("/", summary="What is served here")
    def index() -> dict[str, Any]:
        return {
            "name": "Switchboard mock enterprise",
            "systems": [service.describe() for service in services.values()],
            "chaos": "/_chaos (Authorization: Bearer <chaos token>)",
            "inspection": "/_mock/systems, /_mock/<system>/ledger",
        }

    quiet_injected_drops()
    gateway = Gateway(
        api,
        services,
        chaos,
        max_hang_s=settings.max_hang_s,
        slow_body_s=settings.slow_body_s,
        sleep=sleep,
    )
    return MockEnterprise(app=gateway, api=api, services=services, chaos=chaos, context=context)


def _choose(only: Iterable[str] | None) -> tuple[type[MockService], ...]:
    wanted = list(SYSTEMS) if only is None else list(only)
    unknown = [name for name in wanted if name not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown systems {unknown}; known: {sorted(SYSTEMS)}")
    return tuple(load_system(name) for name in wanted)


def _system_app(service: MockService) -> FastAPI:
    app = FastAPI(
        title=f"{service.title} ({service.vendor})",
        description=service.summary,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.include_router(service.router())
    return app


def _dataset_info(data: Dataset, settings: MockSettings) -> dict[str, Any]:
    return {"customers": len(data.customers), "seed": settings.seed}
