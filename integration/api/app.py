"""The integration service's app: the layer it serves, the routes, and the error shapes.

    create_app(layer) -> FastAPI

The layer is started and closed with the app (its lifespan); routes reach it through
the app's state (``api.layer.layer_of``) and hold nothing of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request

from integration.api import calls, observe, outbox, system_map, tools, vapi, webhooks
from integration.api.front import HOT_ROUTES, FrontDoor, invalid_input
from integration.errors import InvalidInput

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["create_app"]


def create_app(layer: Integration) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await layer.start()
        try:
            yield
        finally:
            await layer.aclose()

    app = FastAPI(
        title="Switchboard integration service",
        description="Caller lookup under a deadline, with provenance on every field; "
        "post-call effects through a durable outbox.",
        lifespan=lifespan,
    )
    app.state.layer = layer
    app.add_exception_handler(InvalidInput, _invalid_input)  # type: ignore[arg-type]
    for module in (calls, tools, vapi, outbox, webhooks, observe, system_map):
        app.include_router(module.router)
    app.add_middleware(
        FrontDoor, admission=layer.admission, metrics=layer.sink.metrics, routes=HOT_ROUTES
    )
    return app


async def _invalid_input(_: Request, exc: InvalidInput) -> JSONResponse:
    return invalid_input(exc)
