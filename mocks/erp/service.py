"""The ERP: orders, stock and shipments of the bank's merchant-services arm."""

from __future__ import annotations

from typing import Any

from mocks.erp.models import (
    CreateFulfilment,
    CreateOrder,
    OrderRecord,
    OrderStatus,
    UpdateOrder,
)
from mocks.erp.store import ErpStore
from mocks.platform.idempotency import StoredResponse
from mocks.platform.rest import EnterpriseRestService, etag, page, stored
from mocks.platform.service import SystemContext

__all__ = ["API_PREFIX", "ErpService"]

API_PREFIX = "/erp/api/v1"  # where Location headers point


def _order_key(order: OrderRecord) -> tuple[float, str]:
    return order.created_at.timestamp(), order.order_id


class ErpService(EnterpriseRestService):
    name = "erp"
    title = "ERP"
    summary = (
        "Orders, inventory and fulfilment under /erp/api/v1, authenticated with X-Api-Key. "
        "There is no one ERP vendor worth copying, so this speaks the style of a typical "
        'modern enterprise API: one resource is {"data": {...}}, a list is {"data": [...], '
        '"next_cursor": ...}; every error is application/problem+json (RFC 9457) with '
        "type, title, status, detail, instance and errors [{field, message}]. Orders and "
        "inventory items carry a version sent as a strong ETag; changing an order needs "
        "If-Match (428 without it, 412 when stale). Writes honour Idempotency-Key."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = ErpStore(ctx.dataset, ctx.clock)

    def reset(self) -> None:
        self.store = ErpStore(self.ctx.dataset, self.ctx.clock)
        super().reset()

    def api_key(self) -> str:
        return self.ctx.settings.credentials.erp_api_key

    # -- reads -----------------------------------------------------------------------

    def order_page(
        self, customer_id: str | None, status: OrderStatus | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        found = self.store.find_orders(customer_id, status)
        return page(found, _order_key, limit, cursor, OrderRecord.as_json)

    def stock_page(
        self, warehouse: str | None, in_stock: bool | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        items = [
            item
            for item in self.store.stock.values()
            if (warehouse is None or item.warehouse == warehouse)
            and (in_stock is None or (item.available > 0) == in_stock)
        ]
        return page(
            items,
            lambda item: (0.0, item.sku),
            limit,
            cursor,
            lambda i: i.as_json(),
            descending=False,
        )

    # -- writes: each runs under run_write's idempotency key, which it records -----------

    def place_order(self, body: CreateOrder, key: str | None) -> StoredResponse:
        order = self.store.create_order(
            body.customer_id, [(line.sku, line.quantity) for line in body.lines]
        )
        self.ledger.record(
            "order.create",
            order.order_id,
            key,
            customer_id=order.customer_id,
            lines=[{"sku": ln.sku, "quantity": ln.quantity} for ln in order.lines],
            total_cents=order.total_cents,
        )
        return stored(
            201,
            order.as_json(),
            ETag=etag(order.version),
            Location=f"{API_PREFIX}/orders/{order.order_id}",
        )

    def move_order(
        self, order_id: str, body: UpdateOrder, if_match: str, key: str | None
    ) -> StoredResponse:
        order = self.store.order(order_id)
        was = self.store.change_status(order, body.status, if_match, body.reason)
        self.ledger.record(
            "order.update",
            order.order_id,
            key,
            from_status=was,
            to_status=order.status,
            reason=body.reason,
        )
        return stored(200, order.as_json(), ETag=etag(order.version))

    def ship_order(
        self, order_id: str, body: CreateFulfilment, if_match: str, key: str | None
    ) -> StoredResponse:
        order = self.store.order(order_id)
        fulfilment = self.store.ship(order, body.carrier, body.tracking_number, if_match)
        self.ledger.record(
            "fulfilment.create",
            fulfilment.fulfilment_id,
            key,
            order_id=order.order_id,
            carrier=fulfilment.carrier,
            tracking_number=fulfilment.tracking_number,
        )
        data = {
            **fulfilment.as_json(),
            "order_status": order.status,
            "order_version": order.version,
        }
        return stored(
            201, data, ETag=etag(order.version), Location=f"{API_PREFIX}/orders/{order.order_id}"
        )
