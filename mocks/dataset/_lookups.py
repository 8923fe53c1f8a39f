"""Lookups on a Dataset, built on first use and cached.

`cached_property` writes straight into the instance dict, which a frozen dataclass still
allows, so a Dataset stays immutable while its indexes fill in lazily (building one at 100k
customers takes tens of milliseconds; later lookups are a dict hit).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .phones import to_e164

if TYPE_CHECKING:
    from .records import (
        BankAccount,
        CallRecord,
        CrmAccount,
        CrmContact,
        CrmLead,
        Customer,
        Loan,
        Order,
        Product,
        Transaction,
    )


def _group(records: tuple[Any, ...], key: str) -> dict[str, tuple[Any, ...]]:
    grouped: dict[str, list[Any]] = {}
    for record in records:
        owner = getattr(record, key)
        if owner is not None:
            grouped.setdefault(owner, []).append(record)
    return {owner: tuple(items) for owner, items in grouped.items()}


class DatasetLookups:
    """Mixed into Dataset; relies only on its record tuples."""

    if TYPE_CHECKING:
        customers: tuple[Customer, ...]
        crm_accounts: tuple[CrmAccount, ...]
        crm_contacts: tuple[CrmContact, ...]
        crm_leads: tuple[CrmLead, ...]
        bank_accounts: tuple[BankAccount, ...]
        transactions: tuple[Transaction, ...]
        products: tuple[Product, ...]
        loans: tuple[Loan, ...]
        orders: tuple[Order, ...]
        calls: tuple[CallRecord, ...]

    def customer_by_id(self, customer_id: str) -> Customer | None:
        return self._customers_by_id.get(customer_id)

    def customer_by_phone(self, phone: str) -> Customer | None:
        """Find a customer by phone; E.164 is a dict hit, any other format is parsed first."""
        hit = self._customers_by_phone.get(phone)
        if hit is not None or (phone.startswith("+1") and len(phone) == 12):
            return hit
        e164 = to_e164(phone)
        return self._customers_by_phone.get(e164) if e164 else None

    def contacts_for_customer(self, customer_id: str) -> tuple[CrmContact, ...]:
        return self._contacts_by_customer.get(customer_id, ())

    def crm_account_for_customer(self, customer_id: str) -> CrmAccount | None:
        return self._crm_account_by_customer.get(customer_id)

    def leads_for_customer(self, customer_id: str) -> tuple[CrmLead, ...]:
        return self._leads_by_customer.get(customer_id, ())

    def bank_accounts_for_customer(self, customer_id: str) -> tuple[BankAccount, ...]:
        return self._bank_accounts_by_customer.get(customer_id, ())

    def transactions_for_account(self, account_number: str) -> tuple[Transaction, ...]:
        return self._transactions_by_account.get(account_number, ())

    def loans_for_customer(self, customer_id: str) -> tuple[Loan, ...]:
        return self._loans_by_customer.get(customer_id, ())

    def orders_for_customer(self, customer_id: str) -> tuple[Order, ...]:
        return self._orders_by_customer.get(customer_id, ())

    def calls_for_customer(self, customer_id: str) -> tuple[CallRecord, ...]:
        return self._calls_by_customer.get(customer_id, ())

    def product_by_code(self, code: str) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    @cached_property
    def _customers_by_id(self) -> dict[str, Customer]:
        return {c.customer_id: c for c in self.customers}

    @cached_property
    def _customers_by_phone(self) -> dict[str, Customer]:
        return {c.phone_e164: c for c in self.customers}

    @cached_property
    def _contacts_by_customer(self) -> dict[str, tuple[CrmContact, ...]]:
        return _group(self.crm_contacts, "customer_id")

    @cached_property
    def _crm_account_by_customer(self) -> dict[str, CrmAccount]:
        return {a.customer_id: a for a in self.crm_accounts}

    @cached_property
    def _leads_by_customer(self) -> dict[str, tuple[CrmLead, ...]]:
        return _group(self.crm_leads, "customer_id")

    @cached_property
    def _bank_accounts_by_customer(self) -> dict[str, tuple[BankAccount, ...]]:
        return _group(self.bank_accounts, "customer_id")

    @cached_property
    def _transactions_by_account(self) -> dict[str, tuple[Transaction, ...]]:
        return _group(self.transactions, "account_number")

    @cached_property
    def _loans_by_customer(self) -> dict[str, tuple[Loan, ...]]:
        return _group(self.loans, "customer_id")

    @cached_property
    def _orders_by_customer(self) -> dict[str, tuple[Order, ...]]:
        return _group(self.orders, "customer_id")

    @cached_property
    def _calls_by_customer(self) -> dict[str, tuple[CallRecord, ...]]:
        return _group(self.calls, "customer_id")
