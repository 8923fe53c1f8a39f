"""The `Dataset` that holds every record of the shared fake enterprise.

The record types live in ``records.py`` and are re-exported here; the dataset is frozen
like its records, because every mock system in one process shares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from ._lookups import DatasetLookups
from .records import (
    AccountStatus,
    AccountType,
    BankAccount,
    CallDirection,
    CallRecord,
    CallStatus,
    Channel,
    CrmAccount,
    CrmContact,
    CrmLead,
    Customer,
    DocumentItem,
    DocumentStatus,
    InventoryItem,
    Loan,
    LoanStage,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Segment,
    Transaction,
)

__all__ = [
    "AccountStatus",
    "AccountType",
    "BankAccount",
    "CallDirection",
    "CallRecord",
    "CallStatus",
    "Channel",
    "CrmAccount",
    "CrmContact",
    "CrmLead",
    "Customer",
    "Dataset",
    "DatasetTruth",
    "DocumentItem",
    "DocumentStatus",
    "InventoryItem",
    "Loan",
    "LoanStage",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Product",
    "Segment",
    "Transaction",
]


@dataclass(frozen=True)
class DatasetTruth:
    """What the generator did on purpose, so tests can grade dedupe and normalization.

    Mock systems must never serve this: it is the answer key.
    """

    # customer_id -> all of that customer's contact ids (primary first), only when > 1.
    duplicate_contact_ids: dict[str, tuple[str, ...]]
    # contact id -> name of the PHONE_FORMATS entry used for that contact's `phone`.
    phone_format_of: dict[str, str]
    # contacts untouched for over two years whose email/address no longer match.
    stale_contact_ids: frozenset[str]
    # customer_id -> Faker locale the name came from ("en_US" for most).
    locale_of: dict[str, str]


@dataclass(frozen=True)
class Dataset(DatasetLookups):
    """One whole fake enterprise. Build it with `generate_dataset`, never by hand.

    Lookups (`customer_by_phone`, `contacts_for_customer`...) come from DatasetLookups.
    """

    seed: int
    reference_now: datetime
    customers: tuple[Customer, ...]
    crm_accounts: tuple[CrmAccount, ...]
    crm_contacts: tuple[CrmContact, ...]
    crm_leads: tuple[CrmLead, ...]
    bank_accounts: tuple[BankAccount, ...]
    transactions: tuple[Transaction, ...]
    products: tuple[Product, ...]
    loans: tuple[Loan, ...]
    orders: tuple[Order, ...]
    inventory: tuple[InventoryItem, ...]
    calls: tuple[CallRecord, ...]
    truth: DatasetTruth

    def fingerprint(self) -> str:
        """sha256 hex of a canonical serialization of every field (stable across runs).

        Computed once (seconds at 100k customers) and cached: the dataset is immutable.
        """
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        from ._canonical import fingerprint

        return fingerprint(self)
