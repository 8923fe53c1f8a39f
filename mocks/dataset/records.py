"""Record types of the shared fake enterprise: one frozen, slotted dataclass per kind.

The dataset is shared by every mock system in one process, so nothing may mutate a record
(mock stores copy what they need to change), and slots keep a 100k-customer dataset's
memory in check. ``Dataset`` (in ``model.py``) holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Segment = Literal["retail", "premier", "small_business"]
Channel = Literal["sms", "whatsapp", "email"]
AccountType = Literal["checking", "savings", "credit_card", "business"]
AccountStatus = Literal["active", "frozen", "closed"]
LoanStage = Literal["submitted", "underwriting", "approved", "declined", "funded"]
DocumentStatus = Literal["missing", "received", "verified"]
OrderStatus = Literal["pending", "confirmed", "shipped", "delivered", "cancelled"]
CallDirection = Literal["inbound", "outbound-api"]
CallStatus = Literal["completed", "busy", "no-answer", "failed", "canceled"]


@dataclass(frozen=True, slots=True)
class Customer:
    """The bank's core record of a person; the source of truth the CRM drifts away from."""

    customer_id: str
    first_name: str
    last_name: str
    email: str | None
    phone_e164: str
    birth_date: date
    street: str
    city: str
    state: str
    postal_code: str | None
    credit_score: int
    annual_income: int
    segment: Segment
    preferred_channel: Channel
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CrmAccount:
    id: str
    name: str
    type: Literal["Household", "Business"]
    phone: str
    customer_id: str
    created_date: datetime
    last_modified_date: datetime


@dataclass(frozen=True, slots=True)
class CrmContact:
    id: str
    account_id: str
    customer_id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str
    mobile_phone: str | None
    mailing_street: str | None
    mailing_city: str | None
    mailing_state: str | None
    mailing_postal_code: str | None
    lead_source: str
    created_date: datetime
    last_modified_date: datetime


@dataclass(frozen=True, slots=True)
class CrmLead:
    id: str
    first_name: str
    last_name: str
    company: str
    email: str | None
    phone: str
    status: str
    lead_source: str
    customer_id: str | None
    created_date: datetime
    last_modified_date: datetime


@dataclass(frozen=True, slots=True)
class BankAccount:
    account_number: str
    customer_id: str
    type: AccountType
    status: AccountStatus
    balance_cents: int
    currency: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class Transaction:
    txn_id: str
    account_number: str
    posted_at: datetime
    amount_cents: int
    description: str
    category: str


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    kind: Literal["loan", "card", "account", "plan"]
    min_credit_score: int
    min_income: int
    max_amount_cents: int | None
    apr_bps: int | None


@dataclass(frozen=True, slots=True)
class DocumentItem:
    name: str
    status: DocumentStatus


@dataclass(frozen=True, slots=True)
class Loan:
    loan_id: str
    customer_id: str
    product_code: str
    amount_cents: int
    stage: LoanStage
    documents: tuple[DocumentItem, ...]
    submitted_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    description: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    total_cents: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InventoryItem:
    sku: str
    description: str
    on_hand: int
    reserved: int
    warehouse: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    sid: str
    from_number: str
    to_number: str
    direction: CallDirection
    status: CallStatus
    start_time: datetime
    end_time: datetime | None
    duration_s: int
    price_cents: int | None
    customer_id: str | None
