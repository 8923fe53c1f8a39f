"""Loan applications: request bodies, records and their wire form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mocks.platform.rest import iso

__all__ = [
    "NEXT_STAGES",
    "ApplicationRecord",
    "CreateApplication",
    "DocumentRecord",
    "DocumentStatus",
    "DocumentUpdate",
    "Stage",
    "StageChange",
    "TransitionRequest",
]

Stage = Literal["submitted", "underwriting", "approved", "declined", "funded"]
DocumentStatus = Literal["missing", "received", "verified"]
CURRENCY = "USD"

# The stage machine; funded and declined are final.
NEXT_STAGES: dict[str, tuple[Stage, ...]] = {
    "submitted": ("underwriting",),
    "underwriting": ("approved", "declined"),
    "approved": ("funded",),
    "declined": (),
    "funded": (),
}


class CreateApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(..., min_length=1, max_length=40, examples=["C0000001"])
    product_code: str = Field(..., min_length=1, max_length=40, examples=["LOAN-PERSONAL"])
    amount_cents: int = Field(..., gt=0, examples=[1_500_000])


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Stage
    reason: str | None = Field(None, max_length=500)


class DocumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["received", "verified"]


@dataclass
class DocumentRecord:
    name: str
    status: DocumentStatus
    updated_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "updated_at": iso(self.updated_at) if self.updated_at else None,
        }


@dataclass(frozen=True)
class StageChange:
    from_stage: Stage | None
    to_stage: Stage
    at: datetime
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.from_stage,
            "to": self.to_stage,
            "at": iso(self.at),
            "reason": self.reason,
        }


@dataclass
class ApplicationRecord:
    application_id: str
    customer_id: str
    product_code: str
    product_name: str
    amount_cents: int
    stage: Stage
    documents: list[DocumentRecord]
    history: list[StageChange]
    submitted_at: datetime
    updated_at: datetime
    version: int = 1

    def document(self, name: str) -> DocumentRecord | None:
        return next((doc for doc in self.documents if doc.name == name), None)

    def unverified(self) -> list[str]:
        return [doc.name for doc in self.documents if doc.status != "verified"]

    def as_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "customer_id": self.customer_id,
            "product_code": self.product_code,
            "product_name": self.product_name,
            "amount_cents": self.amount_cents,
            "currency": CURRENCY,
            "stage": self.stage,
            "allowed_transitions": list(NEXT_STAGES[self.stage]),
            "documents": [doc.as_json() for doc in self.documents],
            "history": [change.as_json() for change in self.history],
            "submitted_at": iso(self.submitted_at),
            "updated_at": iso(self.updated_at),
            "version": self.version,
        }
