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
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request

from integration.api import calls, observe, outbox, system_map, tools, vapi, webhooks
from integration.api.front import HOT_ROUTES, FrontDoor, invalid_input
from integration.api.gate import Gate, GatePolicy
from integration.api.spec import install_openapi
from integration.errors import InvalidInput
from integration.outbox.outcome import safe_errors
from integration.settings import PAYMENTS_WEBHOOK_PATH, STATUS_CALLBACK_PATH

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
    app.add_exception_handler(RequestValidationError, _unreadable)  # type: ignore[arg-type]
    for module in (calls, tools, vapi, outbox, webhooks, observe, system_map):
        app.include_router(module.router)
    # The one ordered chain, outermost last: hosts, then CORS (when configured), then the
    # gate (credentials and bodies), then the front door (admission and the hot routes).
    settings = layer.settings
    app.add_middleware(
        FrontDoor, admission=layer.admission, metrics=layer.sink.metrics, routes=HOT_ROUTES
    )
    gate = GatePolicy(
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        form_paths=(STATUS_CALLBACK_PATH,),
        signed_paths=(PAYMENTS_WEBHOOK_PATH,),
    )
    app.add_middleware(Gate, access=layer.access, policy=gate)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
        )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    signed = (*gate.form_paths, *gate.signed_paths)
    install_openapi(app, vapi_path=gate.vapi_path, form_paths=signed)
    return app


async def _invalid_input(_: Request, exc: InvalidInput) -> JSONResponse:
    return invalid_input(exc)


async def _unreadable(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (a query or path parameter), without the input it would echo."""
    return JSONResponse(status_code=422, content={"detail": safe_errors(exc)})
