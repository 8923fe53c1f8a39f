"""The gateway's documented transformation: each source's record in its canonical shape.

Pure functions, no HTTP: what an iPaaS mapping (a DataWeave script, a Boomi map) does to a
record on its way through. Written down field by field in docs/middleware.md.

    loans LoanApplication                   canonical LoanApplication
    application_id                     ->   applicationId
    customer_id                        ->   customerRef
    product_code, product_name         ->   product {code, name}
    amount_cents, currency             ->   amount {value: "150.00", currency}
    stage                              ->   status (upper case: UNDERWRITING)
    allowed_transitions                ->   nextStatuses (upper case)
    documents [{name, status}]         ->   documents [{name, status (upper case)}]
    submitted_at, updated_at           ->   submittedAt, updatedAt

    erp Order                               canonical Order
    order_id, customer_id              ->   orderId, customerRef
    status                             ->   status (upper case)
    total_cents, currency              ->   total {value: "12.50", currency}
    lines [{sku, description, quantity, unit_price_cents}]
                                       ->   lines [{sku, description, quantity}]
    created_at, updated_at             ->   placedAt, updatedAt

A write goes the other way: ``{"status": "UNDERWRITING"}`` becomes the loans API's
``{"to": "underwriting"}``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LOAN_FIELDS",
    "ORDER_FIELDS",
    "canonical_application",
    "canonical_order",
    "decimal_text",
    "source_stage",
]

# The top-level fields of each canonical record: what a field fault may name.
LOAN_FIELDS = (
    "applicationId",
    "customerRef",
    "product",
    "amount",
    "status",
    "nextStatuses",
    "documents",
    "submittedAt",
    "updatedAt",
)
ORDER_FIELDS = (
    "orderId",
    "customerRef",
    "status",
    "total",
    "lines",
    "placedAt",
    "updatedAt",
)


def decimal_text(cents: Any) -> str | None:
    """Minor units as the decimal string integration platforms pass money in: 1500 -> "15.00"."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        return None
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def canonical_application(record: dict[str, Any]) -> dict[str, Any]:
    documents = record.get("documents") or []
    return {
        "applicationId": record.get("application_id"),
        "customerRef": record.get("customer_id"),
        "product": {"code": record.get("product_code"), "name": record.get("product_name")},
        "amount": {
            "value": decimal_text(record.get("amount_cents")),
            "currency": record.get("currency"),
        },
        "status": _upper(record.get("stage")),
        "nextStatuses": [_upper(s) for s in record.get("allowed_transitions") or []],
        "documents": [
            {"name": d.get("name"), "status": _upper(d.get("status"))}
            for d in documents
            if isinstance(d, dict)
        ],
        "submittedAt": record.get("submitted_at"),
        "updatedAt": record.get("updated_at"),
    }


def canonical_order(record: dict[str, Any]) -> dict[str, Any]:
    lines = record.get("lines") or []
    return {
        "orderId": record.get("order_id"),
        "customerRef": record.get("customer_id"),
        "status": _upper(record.get("status")),
        "total": {
            "value": decimal_text(record.get("total_cents")),
            "currency": record.get("currency"),
        },
        "lines": [
            {
                "sku": line.get("sku"),
                "description": line.get("description"),
                "quantity": line.get("quantity"),
            }
            for line in lines
            if isinstance(line, dict)
        ],
        "placedAt": record.get("created_at"),
        "updatedAt": record.get("updated_at"),
    }


def source_stage(status: str) -> str:
    """A canonical status as the loans API spells its stage."""
    return status.lower()
