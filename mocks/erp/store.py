"""The ERP's state: orders and stock, copied from the shared dataset so they can change.

Stock follows the usual reserve-then-ship model: placing an order reserves units
(``reserved`` goes up, ``on_hand`` does not), cancelling releases them, and shipping takes
them out of the building (both go down). Every change bumps the record's ``version``,
which is its ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from mocks.dataset import SKUS
from mocks.erp.models import (
    CARRIERS,
    Fulfilment,
    LineRecord,
    OrderRecord,
    OrderStatus,
    StockRecord,
)
from mocks.platform.problem import Problem
from mocks.platform.rest import SerialIds, WallClock, check_if_match

if TYPE_CHECKING:
    from mocks.dataset import Dataset

__all__ = ["NEXT_STATUSES", "ErpStore"]

# Where an order may go next. "shipped" is reached only by creating a fulfilment.
NEXT_STATUSES: dict[str, tuple[OrderStatus, ...]] = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": (),
    "cancelled": (),
}
_RESERVING = ("pending", "confirmed")


def tracking_number(carrier: str, seed: str) -> str:
    """A number in the carrier's usual format, derived from ``seed`` so runs repeat."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))
    if carrier == "UPS":
        shipper = hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()[:6].upper()
        return f"1Z{shipper}03{digits[:8]}"
    if carrier == "FedEx":
        return digits[:12]
    if carrier == "USPS":
        return "9400" + digits[:18]
    return digits[:10]


class ErpStore:
    def __init__(self, dataset: Dataset, clock: Callable[[], float]) -> None:
        self.clock = WallClock(dataset.reference_now, clock)
        prices = {sku: cents for sku, _, cents in SKUS}
        self.orders: dict[str, OrderRecord] = {}
        for order in dataset.orders:
            lines = [
                LineRecord(ln.sku, ln.description, ln.quantity, ln.unit_price_cents)
                for ln in order.lines
            ]
            for line in lines:
                prices.setdefault(line.sku, line.unit_price_cents)
            self.orders[order.order_id] = OrderRecord(
                order.order_id,
                order.customer_id,
                order.status,
                lines,
                order.created_at,
                order.updated_at,
            )
        self.stock: dict[str, StockRecord] = {
            item.sku: StockRecord(
                item.sku,
                item.description,
                item.warehouse,
                item.on_hand,
                item.reserved,
                prices.get(item.sku, 0),
                dataset.reference_now,
            )
            for item in dataset.inventory
        }
        self.customer_exists = lambda cid: dataset.customer_by_id(cid) is not None
        self.order_ids = SerialIds(list(self.orders), "SO", 8)
        self.fulfilment_ids = SerialIds([], "FUL", 8)
        for record in sorted(self.orders.values(), key=lambda o: o.created_at):
            if record.status in ("shipped", "delivered"):
                self._seed_fulfilment(record)

    def _seed_fulfilment(self, order: OrderRecord) -> None:
        """Seeded shipments get tracking too, so "where is my order" has an answer."""
        fid = self.fulfilment_ids.next()
        carrier = CARRIERS[int(hashlib.sha256(order.order_id.encode()).hexdigest(), 16) % 4]
        shipped_at = (
            order.updated_at
            if order.status == "shipped"
            else (order.created_at + (order.updated_at - order.created_at) / 2)
        )
        order.fulfilments.append(
            Fulfilment(
                fid,
                order.order_id,
                carrier,
                tracking_number(carrier, fid),
                [(line.sku, line.quantity) for line in order.lines],
                shipped_at,
            )
        )

    # -- reads ---------------------------------------------------------------------------

    def order(self, order_id: str) -> OrderRecord:
        order = self.orders.get(order_id)
        if order is None:
            raise Problem(
                404,
                "not-found",
                "no order has this order_id",
                errors=[("order_id", "unknown order")],
            )
        return order

    def item(self, sku: str) -> StockRecord:
        item = self.stock.get(sku)
        if item is None:
            raise Problem(
                404, "not-found", "no inventory item has this SKU", errors=[("sku", "unknown SKU")]
            )
        return item

    def find_orders(self, customer_id: str | None, status: str | None) -> list[OrderRecord]:
        return [
            o
            for o in self.orders.values()
            if (customer_id is None or o.customer_id == customer_id)
            and (status is None or o.status == status)
        ]

    # -- writes --------------------------------------------------------------------------

    def create_order(self, customer_id: str, wanted: Sequence[tuple[str, int]]) -> OrderRecord:
        if not self.customer_exists(customer_id):
            raise Problem(
                422,
                "unknown-reference",
                "customer_id names no customer",
                title="Unknown reference",
                errors=[("customer_id", "no customer has this id")],
            )
        seen: set[str] = set()
        for index, (sku, _) in enumerate(wanted):
            if sku not in self.stock:
                raise Problem(
                    422,
                    "unknown-reference",
                    f"lines[{index}].sku names no SKU in the catalogue",
                    title="Unknown reference",
                    errors=[(f"lines[{index}].sku", "unknown SKU")],
                )
            if sku in seen:
                raise Problem(
                    422,
                    "validation-error",
                    f"lines[{index}].sku repeats the SKU of an earlier line",
                    title="Validation failed",
                    errors=[(f"lines[{index}].sku", "one line per SKU")],
                )
            seen.add(sku)
        for index, (sku, quantity) in enumerate(wanted):
            item = self.stock[sku]
            if item.available < quantity:
                raise Problem(
                    409,
                    "insufficient-stock",
                    f"insufficient stock for {sku}: lines[{index}].quantity is more than the "
                    f"{item.available} available",
                    title="Insufficient stock",
                    errors=[
                        (f"lines[{index}].quantity", f"only {item.available} of {sku} available")
                    ],
                    sku=sku,
                    requested=quantity,
                    available=item.available,
                )
        now = self.clock.now()
        for sku, quantity in wanted:
            self._touch(self.stock[sku], reserved=quantity)
        order = OrderRecord(
            self.order_ids.next(),
            customer_id,
            "pending",
            [
                LineRecord(sku, self.stock[sku].description, qty, self.stock[sku].unit_price_cents)
                for sku, qty in wanted
            ],
            now,
            now,
        )
        self.orders[order.order_id] = order
        return order

    def change_status(
        self, order: OrderRecord, to: OrderStatus, if_match: str, reason: str | None
    ) -> OrderStatus:
        check_if_match(if_match, order.version, f"order {order.order_id}")
        was = order.status
        if to == "shipped" and was == "confirmed":
            raise Problem(
                409,
                "invalid-transition",
                "an order ships by creating a fulfilment: "
                f"POST /erp/api/v1/orders/{order.order_id}/fulfilments",
                title="Invalid status transition",
                errors=[("status", "use the fulfilments endpoint to ship")],
                current_status=was,
                requested_status=to,
                allowed_transitions=list(NEXT_STATUSES[was]),
            )
        if to not in NEXT_STATUSES[was]:
            allowed = ", ".join(NEXT_STATUSES[was]) or "none (final status)"
            raise Problem(
                409,
                "invalid-transition",
                f"order {order.order_id} cannot go from {was} to {to}; allowed: {allowed}",
                title="Invalid status transition",
                errors=[("status", f"not allowed from {was}")],
                current_status=was,
                requested_status=to,
                allowed_transitions=list(NEXT_STATUSES[was]),
            )
        if to == "cancelled" and was in _RESERVING:
            for line in order.lines:
                self._touch(self.stock[line.sku], reserved=-line.quantity)
        order.status, order.status_reason = to, reason
        self._bump(order)
        return was

    def ship(
        self, order: OrderRecord, carrier: str, tracking: str | None, if_match: str
    ) -> Fulfilment:
        check_if_match(if_match, order.version, f"order {order.order_id}")
        if order.status != "confirmed":
            raise Problem(
                409,
                "invalid-transition",
                f"order {order.order_id} is {order.status}; only confirmed orders ship",
                title="Invalid status transition",
                errors=[("status", f"{order.status} orders cannot ship")],
                current_status=order.status,
                requested_status="shipped",
                allowed_transitions=list(NEXT_STATUSES[order.status]),
            )
        for index, line in enumerate(order.lines):
            item = self.stock.get(line.sku)
            if item is None or item.on_hand < line.quantity:
                on_hand = item.on_hand if item else 0
                raise Problem(
                    409,
                    "insufficient-stock",
                    f"insufficient stock for {line.sku}: {line.quantity} to ship, "
                    f"{on_hand} on hand",
                    title="Insufficient stock",
                    errors=[(f"lines[{index}].quantity", f"only {on_hand} of {line.sku} on hand")],
                    sku=line.sku,
                    requested=line.quantity,
                    available=on_hand,
                )
        for line in order.lines:
            self._touch(self.stock[line.sku], on_hand=-line.quantity, reserved=-line.quantity)
        fid = self.fulfilment_ids.next()
        fulfilment = Fulfilment(
            fid,
            order.order_id,
            carrier,
            tracking or tracking_number(carrier, fid),
            [(line.sku, line.quantity) for line in order.lines],
            self.clock.now(),
        )
        order.fulfilments.append(fulfilment)
        order.status, order.status_reason = "shipped", None
        self._bump(order)
        return fulfilment

    def _touch(self, item: StockRecord, *, on_hand: int = 0, reserved: int = 0) -> None:
        item.on_hand = max(0, item.on_hand + on_hand)
        item.reserved = max(0, item.reserved + reserved)
        item.version += 1
        item.updated_at = self.clock.now()

    def _bump(self, order: OrderRecord) -> None:
        order.version += 1
        order.updated_at = max(self.clock.now(), order.updated_at + timedelta(milliseconds=1))
