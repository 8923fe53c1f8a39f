"""Request and response bodies of the eligibility API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CheckReason",
    "CheckRequest",
    "CheckResult",
    "ErrorEnvelope",
    "ProductOut",
    "ProductsPage",
]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(..., min_length=1, max_length=64, examples=["C0000001"])
    product_code: str = Field(..., min_length=1, max_length=64, examples=["LOAN-PERSONAL"])
    amount_cents: int | None = Field(None, gt=0, description="what the customer asks for")


class CheckReason(BaseModel):
    code: str
    message: str


class CheckResult(BaseModel):
    check_id: str
    customer_id: str
    product_code: str
    decision: Literal["eligible", "ineligible", "review"]
    reasons: list[CheckReason]
    max_amount_cents: int | None
    apr_bps: int | None
    requested_amount_cents: int | None
    evaluated_at: str  # ISO 8601, UTC


class ProductOut(BaseModel):
    code: str
    name: str
    kind: str
    min_credit_score: int
    min_income: int
    max_amount_cents: int | None
    apr_bps: int | None


class ProductsPage(BaseModel):
    products: list[ProductOut]


class ErrorDetail(BaseModel):
    code: str  # unauthorized, invalid_request, customer_not_found...
    message: str  # names the field at fault
    param: str | None = None  # the field at fault
    details: list[dict[str, Any]] | None = None  # each invalid field: loc, msg, type


class ErrorEnvelope(BaseModel):
    """Every eligibility error, validation errors included."""

    error: ErrorDetail
