"""Eligibility checks: evaluated from the shared dataset, kept so they can be read back."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mocks.dataset import Dataset
from mocks.eligibility.rules import assess

__all__ = ["EligibilityStore", "UnknownCustomer", "UnknownProduct"]


class UnknownCustomer(LookupError):
    pass


class UnknownProduct(LookupError):
    pass


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class EligibilityStore:
    def __init__(self, dataset: Dataset, now: Callable[[], datetime] = _utc_now) -> None:
        self.dataset = dataset
        self._now = now
        self._checks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def products(self) -> list[dict[str, Any]]:
        return [
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind,
                "min_credit_score": p.min_credit_score,
                "min_income": p.min_income,
                "max_amount_cents": p.max_amount_cents,
                "apr_bps": p.apr_bps,
            }
            for p in self.dataset.products
        ]

    def create_check(
        self, customer_id: str, product_code: str, amount_cents: int | None
    ) -> dict[str, Any]:
        ds = self.dataset
        customer = ds.customer_by_id(customer_id)
        product = ds.product_by_code(product_code)
        # An unknown product first: that is the caller's bug, not a question about the data.
        if product is None:
            raise UnknownProduct(product_code)
        if customer is None:
            raise UnknownCustomer(customer_id)
        verdict = assess(
            customer,
            product,
            amount_cents,
            accounts=ds.bank_accounts_for_customer(customer_id),
            loans=ds.loans_for_customer(customer_id),
            # The dataset's own "now", so a verdict never drifts as the calendar moves on.
            as_of=ds.reference_now,
        )
        check_id = "chk_" + secrets.token_hex(12)
        check: dict[str, Any] = {
            "check_id": check_id,
            "customer_id": customer_id,
            "product_code": product_code,
            "decision": verdict.decision,
            "reasons": [{"code": r.code, "message": r.message} for r in verdict.reasons],
            "max_amount_cents": verdict.max_amount_cents,
            "apr_bps": verdict.apr_bps,
            "requested_amount_cents": amount_cents,
            "evaluated_at": _iso_utc(self._now()),
        }
        with self._lock:
            self._checks[check_id] = check
        return check

    def get_check(self, check_id: str) -> dict[str, Any] | None:
        return self._checks.get(check_id)

    def clear(self) -> None:
        with self._lock:
            self._checks.clear()
