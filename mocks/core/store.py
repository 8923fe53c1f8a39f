"""The core's customer information file, seeded from the shared dataset.

The CIF is the system of record the SQL replica (``mocks.database``) and the CRM copy
from: the same customers (``CustomerNumber`` is the dataset's ``customer_id``, which the
CRM keeps as ``Customer_Id__c``) and the same accounts and ledger balances. What only the
core knows is worded the way a mainframe keeps it: product and status codes, balances in
currency units with two decimals, holds that make the available balance lower than the
ledger balance, a KYC flag and a home branch. Memos added through ``AddContactMemo`` are
the core's one write.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from mocks.dataset import BankAccount, Customer, Dataset

__all__ = ["CUSTOMER_NUMBER", "CoreStore", "Memo", "money"]

CUSTOMER_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,32}$")
MAX_MEMOS = 10_000  # oldest go first: the mock's memory stays bounded under load
_PRODUCT_CODES = {"checking": "DDA", "savings": "SAV", "business": "DDA-BUS", "credit_card": "CCD"}
_STATUS_CODES = {"active": "A", "frozen": "F", "closed": "C"}


def money(cents: int) -> str:
    """Cents as the core prints them: currency units, two decimals."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _roll(*parts: str) -> int:
    """0..99, stable for the same parts (a fact the dataset does not hold, drawn once)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return digest[0] * 100 // 256


@dataclass(frozen=True, slots=True)
class Memo:
    memo_id: str
    customer_number: str
    text: str
    posted_at: datetime


class CoreStore:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._accounts = {a.account_number: a for a in dataset.bank_accounts}
        self._memos: dict[str, Memo] = {}
        self._lock = threading.Lock()

    def customer(self, number: str) -> Customer | None:
        return self.dataset.customer_by_id(number)

    def profile(self, customer: Customer) -> dict[str, Any]:
        accounts = self.dataset.bank_accounts_for_customer(customer.customer_id)
        return {
            "Customer": {
                "CustomerNumber": customer.customer_id,
                "FirstName": customer.first_name,
                "LastName": customer.last_name,
                "Segment": customer.segment.upper(),
                "KycStatus": "REVIEW_DUE" if _roll("kyc", customer.customer_id) < 6 else "VERIFIED",
                "CustomerSince": customer.created_at.date().isoformat(),
                "HomeBranch": f"{customer.state}-{100 + _roll('branch', customer.customer_id):03d}",
            },
            "Accounts": {"Account": [self.account(a) for a in accounts]},
        }

    def account_by_number(self, number: str) -> BankAccount | None:
        return self._accounts.get(number)

    def account(self, account: BankAccount) -> dict[str, Any]:
        ledger = account.balance_cents
        return {
            "AccountNumber": account.account_number,
            "ProductType": _PRODUCT_CODES.get(account.type, "MISC"),
            "Status": _STATUS_CODES.get(account.status, "U"),
            "LedgerBalance": money(ledger),
            "AvailableBalance": money(ledger - self.hold_cents(account)),
            "Currency": account.currency,
            "OpenedOn": account.opened_at.date().isoformat(),
        }

    @staticmethod
    def hold_cents(account: BankAccount) -> int:
        """Uncleared deposits and card authorisations the core holds back (a few accounts)."""
        if account.type == "credit_card" or account.balance_cents <= 0:
            return 0
        roll = _roll("hold", account.account_number)
        return 0 if roll >= 15 else min(account.balance_cents, (roll + 1) * 2_500)

    def add_memo(self, memo: Memo) -> None:
        with self._lock:
            self._memos[memo.memo_id] = memo
            while len(self._memos) > MAX_MEMOS:
                self._memos.pop(next(iter(self._memos)))

    def memos(self) -> list[Memo]:
        with self._lock:
            return list(self._memos.values())

    def clear(self) -> None:
        with self._lock:
            self._memos.clear()
