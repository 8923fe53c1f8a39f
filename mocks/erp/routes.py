"""The ERP's HTTP surface under ``/erp/api/v1``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from mocks.erp.models import CreateFulfilment, CreateOrder, OrderRecord, OrderStatus, UpdateOrder
from mocks.platform.idempotency import StoredResponse
from mocks.platform.problem import ProblemRoute, with_fallback
from mocks.platform.rest import etag, page, read_one, require_if_match, run_write, stored

if TYPE_CHECKING:
    from mocks.erp.service import ErpService

__all__ = ["build_router"]

BASE = "/api/v1"
PREFIX = f"/erp{BASE}"
_IDEMPOTENCY_DOC = "Idempotency-Key header: a retry with the same key replays the first answer."


def _order_key(order: OrderRecord) -> tuple[float, str]:
    return order.created_at.timestamp(), order.order_id


def build_router(service: ErpService) -> APIRouter:
    router = APIRouter(prefix=BASE, route_class=ProblemRoute, tags=["erp"])

    @router.get("/orders", summary="Orders, newest first, cursor-paged")
    async def list_orders(
        customer_id: str | None = Query(None, max_length=40),
        status: OrderStatus | None = None,
        limit: int = Query(25, ge=1, le=100),
        cursor: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        found = service.store.find_orders(customer_id, status)
        return page(found, _order_key, limit, cursor, OrderRecord.as_json)

    @router.get("/orders/{order_id}", summary="One order, with its ETag")
    async def get_order(order_id: str, request: Request) -> Response:
        order = service.store.order(order_id)
        return read_one(request, order.as_json(), order.version)

    @router.post("/orders", status_code=201, summary="Place an order (reserves stock)",
                 description=_IDEMPOTENCY_DOC)
    async def create_order(body: CreateOrder, request: Request) -> Response:
        def apply(key: str | None) -> StoredResponse:
            order = service.store.create_order(
                body.customer_id, [(line.sku, line.quantity) for line in body.lines]
            )
            service.ledger.record(
                "order.create", order.order_id, key, customer_id=order.customer_id,
                lines=[{"sku": ln.sku, "quantity": ln.quantity} for ln in order.lines],
                total_cents=order.total_cents,
            )
            return stored(201, order.as_json(), ETag=etag(order.version),
                          Location=f"{PREFIX}/orders/{order.order_id}")

        return await run_write(service, request, body.model_dump(), apply)

    @router.patch("/orders/{order_id}", summary="Move an order's status (If-Match required)",
                  description="pending -> confirmed -> shipped (via a fulfilment) -> delivered; "
                  "pending or confirmed -> cancelled. " + _IDEMPOTENCY_DOC)
    async def update_order(order_id: str, body: UpdateOrder, request: Request) -> Response:
        if_match = require_if_match(request)

        def apply(key: str | None) -> StoredResponse:
            order = service.store.order(order_id)
            was = service.store.change_status(order, body.status, if_match, body.reason)
            service.ledger.record(
                "order.update", order.order_id, key, from_status=was, to_status=order.status,
                reason=body.reason,
            )
            return stored(200, order.as_json(), ETag=etag(order.version))

        return await run_write(service, request, body.model_dump(), apply)

    @router.post("/orders/{order_id}/fulfilments", status_code=201,
                 summary="Ship a confirmed order (If-Match required)",
                 description="Creates a shipment with a carrier and tracking number, moves "
                 "the order to shipped and takes the units off the shelf. The ETag "
                 "returned is the order's. " + _IDEMPOTENCY_DOC)
    async def create_fulfilment(
        order_id: str, body: CreateFulfilment, request: Request
    ) -> Response:
        if_match = require_if_match(request)

        def apply(key: str | None) -> StoredResponse:
            order = service.store.order(order_id)
            fulfilment = service.store.ship(order, body.carrier, body.tracking_number, if_match)
            service.ledger.record(
                "fulfilment.create", fulfilment.fulfilment_id, key, order_id=order.order_id,
                carrier=fulfilment.carrier, tracking_number=fulfilment.tracking_number,
            )
            data = {**fulfilment.as_json(), "order_status": order.status,
                    "order_version": order.version}
            return stored(201, data, ETag=etag(order.version),
                          Location=f"{PREFIX}/orders/{order.order_id}")

        return await run_write(service, request, body.model_dump(), apply)

    @router.get("/inventory", summary="Stock per SKU in SKU order, cursor-paged")
    async def list_inventory(
        warehouse: str | None = Query(None, max_length=10),
        in_stock: bool | None = Query(None, description="only SKUs with units available"),
        limit: int = Query(25, ge=1, le=100),
        cursor: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        items = [
            item for item in service.store.stock.values()
            if (warehouse is None or item.warehouse == warehouse)
            and (in_stock is None or (item.available > 0) == in_stock)
        ]
        return page(items, lambda item: (0.0, item.sku), limit, cursor, lambda i: i.as_json(),
                    descending=False)

    @router.get("/inventory/{sku}", summary="One SKU's stock, with its ETag")
    async def get_item(sku: str, request: Request) -> Response:
        item = service.store.item(sku)
        return read_one(request, item.as_json(), item.version)

    return with_fallback(router)
