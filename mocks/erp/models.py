"""The ERP's request bodies and how its records look on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mocks.platform.rest import iso

__all__ = [
    "CARRIERS",
    "CreateFulfilment",
    "CreateOrder",
    "Fulfilment",
    "OrderLineIn",
    "OrderRecord",
    "OrderStatus",
    "StockRecord",
    "UpdateOrder",
]

OrderStatus = Literal["pending", "confirmed", "shipped", "delivered", "cancelled"]
Carrier = Literal["UPS", "FedEx", "USPS", "DHL"]
CARRIERS: tuple[Carrier, ...] = ("UPS", "FedEx", "USPS", "DHL")
CURRENCY = "USD"


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(..., min_length=1, max_length=40, examples=["SKU-0101"])
    quantity: int = Field(..., ge=1, le=1000)


class CreateOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(..., min_length=1, max_length=40, examples=["C0000001"])
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=50)


class UpdateOrder(BaseModel):
    """Only the status moves; shipping happens through a fulfilment, which carries tracking."""

    model_config = ConfigDict(extra="forbid")
    status: OrderStatus
    reason: str | None = Field(None, max_length=500)


class CreateFulfilment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: Carrier
    tracking_number: str | None = Field(
        None, min_length=6, max_length=40, description="generated when absent"
    )


@dataclass
class LineRecord:
    sku: str
    description: str
    quantity: int
    unit_price_cents: int

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_cents": self.unit_price_cents,
            "line_total_cents": self.quantity * self.unit_price_cents,
        }


@dataclass
class Fulfilment:
    fulfilment_id: str
    order_id: str
    carrier: str
    tracking_number: str
    lines: list[tuple[str, int]]  # (sku, quantity)
    shipped_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "fulfilment_id": self.fulfilment_id,
            "order_id": self.order_id,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in self.lines],
            "shipped_at": iso(self.shipped_at),
        }


@dataclass
class OrderRecord:
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: list[LineRecord]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    fulfilments: list[Fulfilment] = field(default_factory=list)
    status_reason: str | None = None

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "status": self.status,
            "status_reason": self.status_reason,
            "currency": CURRENCY,
            "lines": [line.as_json() for line in self.lines],
            "total_cents": self.total_cents,
            "fulfilments": [f.as_json() for f in self.fulfilments],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "version": self.version,
        }


@dataclass
class StockRecord:
    sku: str
    description: str
    warehouse: str
    on_hand: int
    reserved: int
    unit_price_cents: int
    updated_at: datetime
    version: int = 1

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "description": self.description,
            "warehouse": self.warehouse,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "unit_price_cents": self.unit_price_cents,
            "currency": CURRENCY,
            "updated_at": iso(self.updated_at),
            "version": self.version,
        }
