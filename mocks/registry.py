"""The registry: which systems exist, and how each is composed with its routes into one app.

One table pairs every system's facade (a ``MockService`` subclass) with its routes, as
LocalStack's provider registry does: the facade holds state and vendor behaviour and never
imports its routes; the routes are module-level ``APIRouter`` values that find their system
on the app's state. The registry builds each facade from the shared dataset, mounts its
vendor routes under ``/<name>`` as its own FastAPI app (so each has its own OpenAPI docs at
``/<name>/docs``), adds the control planes, and wraps it all in the gateway.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError

from mocks.chaos import ChaosEngine, load_profile_file
from mocks.chaos.models import latencies_over
from mocks.dataset import Dataset, generate_dataset
from mocks.platform import inspection
from mocks.platform._asgi import ASGIApp, quiet_injected_drops
from mocks.platform.chain import middleware_chain
from mocks.platform.chaos_control import router as chaos_router
from mocks.platform.control import validation_error_without_input
from mocks.platform.json_checks import path_text
from mocks.platform.service import MockService, SystemContext
from mocks.platform.state import EnterpriseState
from mocks.platform.system_app import SystemApp, SystemMount
from mocks.settings import MockSettings

__all__ = ["SYSTEMS", "MockEnterprise", "SystemEntry", "build_enterprise", "system_app"]


@dataclass(frozen=True, slots=True)
class SystemEntry:
    """Where a system's parts live, as ``"module:attribute"`` (imported on demand, so one
    system can run alone without the rest)."""

    service: str  # the MockService subclass
    routes: str  # the vendor's API, under /<name>
    inspection: str | None = None  # extras under /_mock/<name>
    chaos: str | None = None  # faults that are not about one request, under /_chaos/<name>


SYSTEMS: dict[str, SystemEntry] = {
    "crm": SystemEntry(
        "mocks.crm.service:CrmService",
        "mocks.crm.routes:router",
        inspection="mocks.crm.inspection:router",
    ),
    "database": SystemEntry(
        "mocks.database.service:DatabaseService",
        "mocks.database.routes:router",
        chaos="mocks.database.control:router",
    ),
    "eligibility": SystemEntry(
        "mocks.eligibility.service:EligibilityService",
        "mocks.eligibility.routes:router",
    ),
    "telephony": SystemEntry(
        "mocks.telephony.service:TelephonyService",
        "mocks.telephony.routes:router",
    ),
    "payments": SystemEntry(
        "mocks.payments.service:PaymentsService",
        "mocks.payments.routes:router",
        inspection="mocks.payments.inspection:router",
    ),
    "messaging": SystemEntry(
        "mocks.messaging.service:MessagingService",
        "mocks.messaging.routes:router",
        inspection="mocks.messaging.control:router",
    ),
    "email": SystemEntry(
        "mocks.email.service:EmailService",
        "mocks.email.routes:router",
        inspection="mocks.email.inspection:router",
    ),
    "calendar": SystemEntry(
        "mocks.calendar.service:CalendarService",
        "mocks.calendar.routes:router",
        inspection="mocks.calendar.inspection:router",
    ),
    "slack": SystemEntry(
        "mocks.slack.service:SlackService",
        "mocks.slack.routes:router",
        inspection="mocks.slack.inspection:router",
    ),
    "analytics": SystemEntry(
        "mocks.analytics.service:AnalyticsService",
        "mocks.analytics.routes:router",
        inspection="mocks.analytics.inspection:router",
    ),
    "erp": SystemEntry("mocks.erp.service:ErpService", "mocks.erp.routes:router"),
    "loans": SystemEntry("mocks.loans.service:LoansService", "mocks.loans.routes:router"),
    "core": SystemEntry(
        "mocks.core.service:CoreService",
        "mocks.core.routes:router",
        chaos="mocks.core.control:router",
    ),
    "middleware": SystemEntry(
        "mocks.middleware.service:MiddlewareService",
        "mocks.middleware.routes:router",
        inspection="mocks.middleware.inspection:router",
        chaos="mocks.middleware.control:router",
    ),
    "sheets": SystemEntry(
        "mocks.sheets.service:SheetsService",
        "mocks.sheets.routes:router",
        inspection="mocks.sheets.inspection:router",
    ),
    "docstore": SystemEntry(
        "mocks.docstore.service:DocstoreService",
        "mocks.docstore.routes:router",
        inspection="mocks.docstore.inspection:router",
    ),
    "tracker": SystemEntry("mocks.tracker.service:TrackerService", "mocks.tracker.routes:router"),
}


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _router(target: str) -> APIRouter:
    router = _load(target)
    assert isinstance(router, APIRouter), target
    return router


def _service_class(name: str) -> type[MockService]:
    cls = _load(SYSTEMS[name].service)
    assert issubclass(cls, MockService) and cls.name == name, SYSTEMS[name]
    return cls


@dataclass
class MockEnterprise:
    """The assembled mocks: ``app`` is what a server runs; the rest is for tests and tools."""

    app: ASGIApp
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
    names = _choose(only)
    chaos = ChaosEngine(names, seed=settings.seed, clock=clock)
    if settings.faults_file is not None:
        profile = load_profile_file(settings.faults_file)
        unknown = sorted(set(profile.systems) - set(names))
        if unknown:
            raise ValueError(f"{settings.faults_file}: unknown systems {unknown}; known: {names}")
        for name, faults in profile.systems.items():
            for loc, why in latencies_over(faults, settings.max_hang_s * 1000):
                where = path_text(("systems", name, *loc))
                raise ValueError(f"{settings.faults_file}: {where} {why}")
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
    services = {name: _service_class(name)(context) for name in names}
    state = EnterpriseState(
        services=services,
        chaos=chaos,
        settings=settings,
        dataset_info={"customers": len(data.customers), "seed": settings.seed},
    )
    api = FastAPI(
        title="Switchboard mock enterprise",
        description="Vendor-shaped mock systems that fail on demand. Each system's own docs "
        "are at /<system>/docs.",
        lifespan=_lifespan,
        exception_handlers={RequestValidationError: validation_error_without_input},
    )
    api.state.enterprise = state
    for name, service in services.items():
        api.router.routes.append(SystemMount(f"/{name}", system_app(service, state)))
        entry = SYSTEMS[name]
        if entry.chaos is not None:
            api.include_router(_router(entry.chaos), prefix=f"/_chaos/{name}", tags=["chaos"])
    api.include_router(chaos_router)
    api.include_router(inspection.router)
    for name in services:
        extra = SYSTEMS[name].inspection
        if extra is not None:
            # Each system guards its own mutating extras with the chaos token.
            api.include_router(_router(extra), prefix=f"/_mock/{name}", tags=["inspection"])
    api.include_router(inspection.index_router)

    quiet_injected_drops()
    app = middleware_chain(api, services, chaos, settings, sleep)
    return MockEnterprise(app=app, api=api, services=services, chaos=chaos, context=context)


def system_app(service: MockService, state: EnterpriseState | None = None) -> FastAPI:
    """One system's vendor API as its own app (docs at ``/docs``); without ``state``, the
    system alone, as a test serves it without the gateway."""
    if state is None:
        ctx = service.ctx
        state = EnterpriseState({service.name: service}, ctx.chaos, ctx.settings, {})
    app = SystemApp(
        service,
        title=f"{service.title} ({service.vendor})",
        description=service.summary,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.enterprise = state
    app.include_router(_router(SYSTEMS[service.name].routes))
    return app


@asynccontextmanager
async def _lifespan(api: FastAPI) -> AsyncIterator[None]:
    services: Mapping[str, MockService] = api.state.enterprise.services
    for service in services.values():
        await service.startup()
    yield
    for service in services.values():
        await service.shutdown()


def _choose(only: Iterable[str] | None) -> tuple[str, ...]:
    wanted = list(SYSTEMS) if only is None else list(only)
    unknown = [name for name in wanted if name not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown systems {unknown}; known: {sorted(SYSTEMS)}")
    return tuple(wanted)
