"""ERP: sales orders whose status follows their age, and the stock they reserve."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from ._clock import between
from ._draw import Weighted, randint
from ._ids import serials
from .catalog import SKUS, WAREHOUSES
from .model import Customer, InventoryItem, Order, OrderLine, OrderStatus

HAS_ORDER_RATE = 0.40
MAX_ORDERS = 3
ORDER_HISTORY_DAYS = 365
# Share of orders placed in the last two weeks, so plenty are still pending or in transit
# (the "where is my order?" calls a voice agent gets).
RECENT_ORDER_SHARE = 0.3
RECENT_DAYS = 14
BACKORDERED_SKU_RATE = 0.08  # SKUs whose free stock is exactly zero

# (max age in days, statuses, weights): young orders are still moving, old ones settled.
_STATUS_BY_AGE: tuple[tuple[float, Weighted[OrderStatus]], ...] = (
    (2, Weighted(("pending", "confirmed"), (60, 40))),
    (7, Weighted(("confirmed", "shipped", "cancelled"), (50, 45, 5))),
    (14, Weighted(("shipped", "delivered", "cancelled"), (40, 55, 5))),
    (float("inf"), Weighted(("delivered", "cancelled"), (93, 7))),
)
# Orders in these states hold stock in the warehouse.
RESERVING: frozenset[str] = frozenset({"pending", "confirmed"})


def _status(rng: random.Random, age_days: float) -> OrderStatus:
    for limit, statuses in _STATUS_BY_AGE:
        if age_days < limit:
            return statuses.draw(rng)
    raise AssertionError("the last age bracket is unbounded")


def make_orders(rng: random.Random, customers: list[Customer], now: datetime) -> list[Order]:
    drafts = []
    for c in customers:
        if rng.random() >= HAS_ORDER_RATE:
            continue
        for _ in range(randint(rng, 1, MAX_ORDERS)):
            days = RECENT_DAYS if rng.random() < RECENT_ORDER_SHARE else ORDER_HISTORY_DAYS
            earliest = max(c.created_at, now - timedelta(days=days))
            created = between(rng, earliest, now - timedelta(minutes=5))
            status = _status(rng, (now - created).total_seconds() / 86_400)
            picks = rng.sample(SKUS, randint(rng, 1, 3))
            lines = tuple(
                OrderLine(sku, description, randint(rng, 1, 5), price)
                for sku, description, price in picks
            )
            total = sum(line.quantity * line.unit_price_cents for line in lines)
            updated = between(rng, created, min(now, created + timedelta(days=20)))
            drafts.append((c.customer_id, status, lines, total, created, updated))
    ids = serials(rng, "SO", 8, len(drafts))
    return [Order(order_id, *draft) for order_id, draft in zip(ids, drafts, strict=True)]


def make_inventory(rng: random.Random, orders: list[Order]) -> list[InventoryItem]:
    """Stock levels consistent with the orders: reserved = quantities on open orders."""
    reserved: Counter[str] = Counter()
    for order in orders:
        if order.status in RESERVING:
            for line in order.lines:
                reserved[line.sku] += line.quantity
    items = []
    for sku, description, _price in SKUS:
        held = reserved[sku]
        free = 0 if rng.random() < BACKORDERED_SKU_RATE else randint(rng, 5, 500)
        items.append(InventoryItem(sku, description, held + free, held, rng.choice(WAREHOUSES)))
    return items
