"""The integration gateway (an iPaaS in front of the loans system and the ERP): the layer's
clients for the systems the system map reaches with ``path: middleware``.

They answer exactly what ``LoansClient`` and ``ErpClient`` answer, so the lookup, the tools
and the outbox neither know nor care which way a system is reached; the composition root
picks one or the other from the map (``build_clients``, ``build_write_clients``). Errors
keep the source's name (``loans``, ``erp``): the step, its policy and its events are the
source's, and the hop is part of how that source is reached.

The gateway maps each record into its canonical shape (docs/middleware.md). Every field
the layer maps back is checked first, because a mapping can drop or mangle a field and
still answer 200: a record that fails the check is an ``InvalidField`` naming where
(``items[0].status``), never a value passed on to the agent. Retried like any malformed
answer; then the step falls back to its last good value or is missing, as any failed read.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.errors import InvalidField
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["GatewayErpClient", "GatewayLoansClient"]

_ID = r"^[A-Za-z0-9_-]{1,40}$"
Stage = Literal["SUBMITTED", "UNDERWRITING", "APPROVED", "DECLINED", "FUNDED"]


def _instant(text: str) -> str:
    datetime.fromisoformat(text.replace("Z", "+00:00"))  # ValueError: not a timestamp
    return text


Instant = Annotated[str, Field(max_length=40), AfterValidator(_instant)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(_Record):
    value: str = Field(..., pattern=r"^-?\d{1,15}\.\d{2}$")
    currency: str = Field(..., pattern=r"^[A-Z]{3}$")

    def cents(self) -> int:
        return int(Decimal(self.value) * 100)


class Product(_Record):
    code: str = Field(..., pattern=_ID)
    name: str = Field(..., min_length=1, max_length=200)


class Document(_Record):
    name: str = Field(..., pattern=r"^[a-z0-9_]{1,80}$")
    status: Literal["MISSING", "RECEIVED", "VERIFIED"]


class LoanApplication(_Record):
    """The gateway's canonical loan application: every field the layer maps back."""

    applicationId: str = Field(..., pattern=_ID)
    customerRef: str = Field(..., pattern=_ID)
    product: Product
    amount: Money
    status: Stage
    nextStatuses: list[Stage]
    documents: list[Document]
    submittedAt: Instant
    updatedAt: Instant

    def as_source(self) -> dict[str, Any]:
        """In the loans system's own shape, the one the caller view has always held."""
        return {
            "application_id": self.applicationId,
            "customer_id": self.customerRef,
            "product_code": self.product.code,
            "product_name": self.product.name,
            "amount_cents": self.amount.cents(),
            "currency": self.amount.currency,
            "stage": self.status.lower(),
            "allowed_transitions": [s.lower() for s in self.nextStatuses],
            "documents": [{"name": d.name, "status": d.status.lower()} for d in self.documents],
            "submitted_at": self.submittedAt,
            "updated_at": self.updatedAt,
        }


class OrderLine(_Record):
    sku: str = Field(..., min_length=1, max_length=40)
    description: str = Field(..., max_length=500)
    quantity: int = Field(..., ge=0)


class Order(_Record):
    orderId: str = Field(..., pattern=_ID)
    customerRef: str = Field(..., pattern=_ID)
    status: str = Field(..., pattern=r"^[A-Z_]{1,40}$")
    total: Money
    lines: list[OrderLine]
    placedAt: Instant
    updatedAt: Instant

    def as_source(self) -> dict[str, Any]:
        """In the ERP's own shape (without the unit prices the gateway does not carry)."""
        return {
            "order_id": self.orderId,
            "customer_id": self.customerRef,
            "status": self.status.lower(),
            "currency": self.total.currency,
            "total_cents": self.total.cents(),
            "lines": [line.model_dump() for line in self.lines],
            "created_at": self.placedAt,
            "updated_at": self.updatedAt,
        }


class _Listing(_Record):
    customerRef: str
    items: list[dict[str, Any]]


class _GatewayClient:
    """What both clients share: the gateway's address, its credentials, the checks."""

    system: str

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the gateway's root above ``/api/v1`` (the mocks:
        ``<mocks_url>/middleware``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._headers = {
            "client_id": credentials.middleware_client_id,
            "client_secret": credentials.middleware_client_secret,
        }

    def _invalid(
        self, operation: str, attempt: AttemptState, exc: ValidationError, where: str
    ) -> InvalidField:
        first = exc.errors()[0]
        field = where + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        )
        field = field.lstrip(".") or "body"
        return InvalidField(
            self.system,
            operation,
            f"the gateway's answer has {field} {first['type']}",
            field=field,
            status=attempt.status,
            injected_fault=attempt.injected_fault,
        )

    async def _listing(
        self, operation: str, attempt: AttemptState, path: str, customer_id: str
    ) -> list[dict[str, Any]]:
        body = await self.http.send_json(operation, attempt, "GET", path, headers=self._headers)
        try:
            listing = _Listing.model_validate(body)
        except ValidationError as exc:
            raise self._invalid(operation, attempt, exc, "") from None
        if listing.customerRef != customer_id:
            raise InvalidField(
                self.system,
                operation,
                "the gateway answered for another customer",
                field="customerRef",
                status=attempt.status,
                injected_fault=attempt.injected_fault,
            )
        return listing.items


class GatewayLoansClient(_GatewayClient):
    """``LoansClient``'s two calls, through the gateway."""

    system = "loans"

    async def applications_for_customer(
        self, attempt: AttemptState, customer_id: str
    ) -> list[dict[str, Any]]:
        path = f"/api/v1/customers/{quote(customer_id, safe='')}/loan-applications"
        operation = "applications_for_customer"
        items = await self._listing(operation, attempt, path, customer_id)
        records = []
        for index, item in enumerate(items):
            try:
                record = LoanApplication.model_validate(item)
            except ValidationError as exc:
                raise self._invalid(operation, attempt, exc, f"items[{index}]") from None
            if record.customerRef != customer_id:
                raise InvalidField(
                    self.system,
                    operation,
                    "an application of another customer",
                    field=f"items[{index}].customerRef",
                    status=attempt.status,
                    injected_fault=attempt.injected_fault,
                )
            records.append(record.as_source())
        return records

    async def advance_stage(
        self, attempt: AttemptState, application_id: str, stage: str, key: str
    ) -> dict[str, Any]:
        """The application after its move; the gateway's 422 (the source refused the move)
        is a ``Rejected``, as the loans system's own 409 is."""
        path = f"/api/v1/loan-applications/{quote(application_id, safe='')}/status"
        body = await send_write_json(
            self.http,
            "advance_stage",
            attempt,
            "POST",
            path,
            json={"status": stage.upper()},
            headers={**self._headers, "Idempotency-Key": key},
        )
        try:
            return LoanApplication.model_validate(body).as_source()
        except ValidationError as exc:
            raise self._invalid("advance_stage", attempt, exc, "") from None


class GatewayErpClient(_GatewayClient):
    """``ErpClient``'s call, through the gateway."""

    system = "erp"

    async def orders_for_customer(
        self, attempt: AttemptState, customer_id: str
    ) -> list[dict[str, Any]]:
        path = f"/api/v1/customers/{quote(customer_id, safe='')}/orders"
        operation = "orders_for_customer"
        items = await self._listing(operation, attempt, path, customer_id)
        records = []
        for index, item in enumerate(items):
            try:
                records.append(Order.model_validate(item).as_source())
            except ValidationError as exc:
                raise self._invalid(operation, attempt, exc, f"items[{index}]") from None
        return records
