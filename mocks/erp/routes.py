"""The ERP's HTTP surface under ``/erp/api/v1``: each endpoint parses, asks the service,
and answers; ``run_write`` applies a write once per ``Idempotency-Key``."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from mocks.erp.models import CreateFulfilment, CreateOrder, OrderStatus, UpdateOrder
from mocks.erp.service import ErpService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.problem import ProblemDetails, ProblemRoute
from mocks.platform.rest import read_one, require_if_match, run_write
from mocks.platform.state import service_in

__all__ = ["router"]

_IDEMPOTENCY_DOC = "Idempotency-Key header: a retry with the same key replays the first answer."

api = APIRouter(
    prefix="/api/v1",
    route_class=ProblemRoute,
    tags=["erp"],
    responses=error_responses(ProblemDetails, *GATEWAY_STATUSES),
)


def _problems(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(ProblemDetails, *statuses)


_WRITE_PROBLEMS = _problems(*BODY_STATUSES, 404, 409, 422)
_IF_MATCH_PROBLEMS = _problems(*BODY_STATUSES, 404, 409, 412, 422, 428)


async def current_erp(request: Request) -> ErpService:
    return service_in(request, ErpService)


Erp = Annotated[ErpService, Depends(current_erp)]


@api.get("/orders", summary="Orders, newest first, cursor-paged", responses=_problems(422))
async def list_orders(
    erp: Erp,
    customer_id: str | None = Query(None, max_length=40),
    status: OrderStatus | None = None,
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    return erp.order_page(customer_id, status, limit, cursor)


@api.get("/orders/{order_id}", summary="One order, with its ETag", responses=_problems(404))
async def get_order(order_id: str, request: Request, erp: Erp) -> Response:
    order = erp.store.order(order_id)
    return read_one(request, order.as_json(), order.version)


@api.post(
    "/orders",
    status_code=201,
    summary="Place an order (reserves stock)",
    description=_IDEMPOTENCY_DOC,
    responses=_WRITE_PROBLEMS,
)
async def create_order(body: CreateOrder, request: Request, erp: Erp) -> Response:
    return await run_write(erp, request, body.model_dump(), partial(erp.place_order, body))


@api.patch(
    "/orders/{order_id}",
    summary="Move an order's status (If-Match required)",
    description="pending -> confirmed -> shipped (via a fulfilment) -> delivered; "
    "pending or confirmed -> cancelled. " + _IDEMPOTENCY_DOC,
    responses=_IF_MATCH_PROBLEMS,
)
async def update_order(order_id: str, body: UpdateOrder, request: Request, erp: Erp) -> Response:
    move = partial(erp.move_order, order_id, body, require_if_match(request))
    return await run_write(erp, request, body.model_dump(), move)


@api.post(
    "/orders/{order_id}/fulfilments",
    status_code=201,
    summary="Ship a confirmed order (If-Match required)",
    description="Creates a shipment with a carrier and tracking number, moves "
    "the order to shipped and takes the units off the shelf. The ETag "
    "returned is the order's. " + _IDEMPOTENCY_DOC,
    responses=_IF_MATCH_PROBLEMS,
)
async def create_fulfilment(
    order_id: str, body: CreateFulfilment, request: Request, erp: Erp
) -> Response:
    ship = partial(erp.ship_order, order_id, body, require_if_match(request))
    return await run_write(erp, request, body.model_dump(), ship)


@api.get("/inventory", summary="Stock per SKU in SKU order, cursor-paged", responses=_problems(422))
async def list_inventory(
    erp: Erp,
    warehouse: str | None = Query(None, max_length=10),
    in_stock: bool | None = Query(None, description="only SKUs with units available"),
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    return erp.stock_page(warehouse, in_stock, limit, cursor)


@api.get("/inventory/{sku}", summary="One SKU's stock, with its ETag", responses=_problems(404))
async def get_item(sku: str, request: Request, erp: Erp) -> Response:
    item = erp.store.item(sku)
    return read_one(request, item.as_json(), item.version)


router = api  # what the registry mounts
