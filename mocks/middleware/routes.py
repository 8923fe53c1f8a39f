"""The gateway's experience API under ``/middleware/api/v1``: each endpoint parses, asks the
service, and answers with ``X-Correlation-Id``; ``GatewayRoute`` renders every failure
(the gateway's own and FastAPI's validation) in the gateway's error shape."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from mocks.middleware.forward import GatewayError
from mocks.middleware.service import MiddlewareService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.field_errors import defined_names, safe_errors
from mocks.platform.problem import field_name
from mocks.platform.state import service_in

__all__ = ["GatewayErrorBody", "StatusChange", "router"]

CanonicalStatus = Literal["SUBMITTED", "UNDERWRITING", "APPROVED", "DECLINED", "FUNDED"]
_ID = Path(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class GatewayErrorDetail(BaseModel):
    status: int
    code: str  # NOT_FOUND, SOURCE_REJECTED, SOURCE_UNAVAILABLE, SOURCE_TIMEOUT, INVALID_REQUEST...
    message: str
    correlationId: str  # also the X-Correlation-Id header
    source: dict[str, Any] | None = None  # {"system", "status"} when a source failed
    field: str | None = None


class GatewayErrorBody(BaseModel):
    """The gateway's error body (``MiddlewareService.error``)."""

    error: GatewayErrorDetail


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CanonicalStatus = Field(..., description="the canonical status to move to")
    reason: str | None = Field(None, max_length=500)


class GatewayRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def rendering_gateway_errors(request: Request) -> Response:
            gateway = service_in(request, MiddlewareService)
            try:
                return await handle(request)
            except RequestValidationError as exc:
                error = _invalid_request(exc, defined_names(request.app))
            except GatewayError as exc:
                error = exc
            correlation_id = error.correlation_id or gateway.correlation_id()
            body = gateway.error(
                error.status,
                error.code,
                error.message,
                correlation_id,
                source=error.source,
                field=error.field,
            )
            headers = {"X-Correlation-Id": correlation_id}
            if error.fault:  # what the source's answer said was injected
                headers["X-Injected-Fault"] = error.fault
            if error.retry_after:
                headers["Retry-After"] = error.retry_after
            return JSONResponse(body, status_code=error.status, headers=headers)

        return rendering_gateway_errors


def _invalid_request(exc: RequestValidationError, names: frozenset[str]) -> GatewayError:
    said: list[tuple[str, str]] = []
    for error in safe_errors(exc.errors(), names):
        if error["type"] == "json_invalid":
            said.append(("body", "the body is not valid JSON"))
        else:
            said.append((field_name(tuple(error["loc"])), str(error["msg"])))
    fields = list(dict.fromkeys(field for field, _ in said)) or ["body"]
    message = "; ".join(f"{field}: {msg}" for field, msg in said) or "the request is invalid"
    return GatewayError(400, "INVALID_REQUEST", message, field=fields[0])


async def current_gateway(request: Request) -> MiddlewareService:
    return service_in(request, MiddlewareService)


Gateway = Annotated[MiddlewareService, Depends(current_gateway)]

_SAID: dict[int | str, str] = {
    502: "A source failed, timed out or answered what it should not: SOURCE_UNAVAILABLE, "
    "SOURCE_TIMEOUT, SOURCE_UNREACHABLE, SOURCE_MALFORMED, with the source and its status",
}
api = APIRouter(
    prefix="/api/v1",
    route_class=GatewayRoute,
    tags=["middleware"],
    responses=error_responses(
        GatewayErrorBody, *GATEWAY_STATUSES, 400, 404, 502, descriptions=_SAID
    ),
)
_WRITE_ERRORS = error_responses(GatewayErrorBody, *BODY_STATUSES, 409, 422)


def _answer(body: dict[str, Any], correlation_id: str, applied: list[str]) -> JSONResponse:
    headers = {"X-Correlation-Id": correlation_id}
    if applied:  # a field fault is an injected fault like any other
        headers["X-Injected-Fault"] = "field_" + applied[0].replace(":", "_", 1)
    return JSONResponse(body, headers=headers)


@api.get("/status", summary="The gateway's routes and the source each one reads")
async def status(gateway: Gateway) -> dict[str, Any]:
    return gateway.routes()


@api.get(
    "/customers/{customer_id}/loan-applications",
    summary="A customer's loan applications, canonical, newest first",
    description="From the loans system (every page), mapped as docs/middleware.md says.",
)
async def loan_applications(gateway: Gateway, customer_id: Annotated[str, _ID]) -> JSONResponse:
    return _answer(*await gateway.loan_applications(customer_id))


@api.get(
    "/customers/{customer_id}/orders",
    summary="A customer's orders, canonical, newest first",
    description="From the ERP (every page), mapped as docs/middleware.md says.",
)
async def orders(gateway: Gateway, customer_id: Annotated[str, _ID]) -> JSONResponse:
    return _answer(*await gateway.orders(customer_id))


@api.post(
    "/loan-applications/{application_id}/status",
    summary="Move a loan application to a canonical status",
    description="Becomes the loans system's stage transition; Idempotency-Key is passed "
    "through, so a retry with the same key is answered by the source's replay. A move the "
    "source refuses is a 422 SOURCE_REJECTED.",
    responses=_WRITE_ERRORS,
)
async def change_status(
    body: StatusChange,
    gateway: Gateway,
    application_id: Annotated[str, _ID],
    # Visible ASCII only: the key is forwarded to the source as a header of our own.
    idempotency_key: Annotated[str | None, Header(pattern=r"^[!-~]{1,255}$")] = None,
) -> JSONResponse:
    moved = await gateway.move_loan(application_id, body.status, body.reason, idempotency_key)
    return _answer(*moved)


router = api  # what the registry mounts
