"""The bank's eligibility rules: deterministic, from the customer's records alone.

Order of the verdict: any hard failure makes the check ``ineligible``; otherwise anything
a person must look at makes it ``review``; otherwise it is ``eligible``. Every verdict
carries at least one reason, so a voice agent always has words to say.

    hard:   credit score below the product's floor, income below its floor,
            requested amount above what this customer may borrow
    review: a frozen account, an open application for the same product,
            a decline for it in the last year, and (for loans and cards) funded
            unsecured debt above half the yearly income
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mocks.dataset import BankAccount, Customer, Loan, Product

__all__ = ["Assessment", "Reason", "assess", "borrowing_limit_cents", "rate_bps"]

Decision = Literal["eligible", "ineligible", "review"]

_OPEN_STAGES = frozenset({"submitted", "underwriting", "approved"})
_RECENT_DECLINE = timedelta(days=365)
_ROUND_TO_CENTS = 10_000  # limits come in whole $100
_SECURED_BY_HOME = frozenset({"MORTGAGE-30Y", "MORTGAGE-15Y", "HELOC"})


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Assessment:
    decision: Decision
    reasons: tuple[Reason, ...]
    max_amount_cents: int | None
    apr_bps: int | None


def borrowing_limit_cents(customer: Customer, product: Product) -> int | None:
    """What this customer may borrow: the product's ceiling scaled by credit, capped by income.

    Half the ceiling at the product's minimum score, all of it 100 points above.
    """
    if product.max_amount_cents is None:
        return None
    headroom = max(0, customer.credit_score - product.min_credit_score)
    by_score = product.max_amount_cents * min(1.0, 0.5 + headroom / 200)
    yearly_cents = customer.annual_income * 100
    if product.code in _SECURED_BY_HOME:
        by_income = 4.0 * yearly_cents
    elif product.kind == "card":
        by_income = 0.3 * yearly_cents
    else:
        by_income = 0.6 * yearly_cents
    limit = int(min(by_score, by_income)) // _ROUND_TO_CENTS * _ROUND_TO_CENTS
    return max(limit, _ROUND_TO_CENTS)


def rate_bps(customer: Customer, product: Product) -> int | None:
    """The product's APR plus a premium that shrinks as the score clears the floor."""
    if product.apr_bps is None:
        return None
    headroom = customer.credit_score - product.min_credit_score
    premium = 0 if headroom >= 150 else 100 if headroom >= 75 else 200 if headroom >= 25 else 300
    return product.apr_bps + premium


def assess(
    customer: Customer,
    product: Product,
    amount_cents: int | None,
    *,
    accounts: Sequence[BankAccount],
    loans: Sequence[Loan],
    as_of: datetime,
) -> Assessment:
    hard = _floors(customer, product)
    if hard:
        return Assessment("ineligible", tuple(hard), None, None)
    limit = borrowing_limit_cents(customer, product)
    if limit is not None and amount_cents is not None and amount_cents > limit:
        hard.append(
            Reason(
                "amount_above_maximum",
                f"{_dollars(amount_cents)} is above the {_dollars(limit)} this customer can be "
                f"offered for {product.name}",
            )
        )
    review = _review_flags(customer, product, accounts, loans, as_of)
    apr = rate_bps(customer, product)
    if hard:
        return Assessment("ineligible", (*hard, *review), limit, apr)
    if review:
        return Assessment("review", tuple(review), limit, apr)
    met = Reason("meets_criteria", f"Meets the credit and income requirements for {product.name}")
    return Assessment("eligible", (met,), limit, apr)


def _floors(customer: Customer, product: Product) -> list[Reason]:
    reasons = []
    if customer.credit_score < product.min_credit_score:
        reasons.append(
            Reason(
                "credit_score_below_minimum",
                f"Credit score {customer.credit_score} is below the {product.min_credit_score} "
                f"minimum for {product.name}",
            )
        )
    if customer.annual_income < product.min_income:
        reasons.append(
            Reason(
                "income_below_minimum",
                f"Annual income ${customer.annual_income:,} is below the ${product.min_income:,} "
                f"minimum for {product.name}",
            )
        )
    return reasons


def _review_flags(
    customer: Customer,
    product: Product,
    accounts: Sequence[BankAccount],
    loans: Sequence[Loan],
    as_of: datetime,
) -> list[Reason]:
    reasons = []
    frozen = [a.account_number for a in accounts if a.status == "frozen"]
    if frozen:
        reasons.append(Reason("account_frozen", f"Account {frozen[0]} is frozen"))
    same = [loan for loan in loans if loan.product_code == product.code]
    open_ = [loan for loan in same if loan.stage in _OPEN_STAGES]
    if open_:
        reasons.append(
            Reason(
                "application_in_progress",
                f"Application {open_[0].loan_id} for {product.name} is already {open_[0].stage}",
            )
        )
    declined = [
        loan
        for loan in same
        if loan.stage == "declined" and as_of - loan.updated_at <= _RECENT_DECLINE
    ]
    if declined:
        reasons.append(
            Reason(
                "recently_declined",
                f"Application {declined[0].loan_id} for {product.name} was declined within a year",
            )
        )
    funded = sum(
        loan.amount_cents
        for loan in loans
        if loan.stage == "funded" and loan.product_code not in _SECURED_BY_HOME
    )
    lends = product.kind in ("loan", "card")
    if lends and funded > customer.annual_income * 100 // 2:
        reasons.append(
            Reason(
                "high_existing_debt",
                f"Funded loans of {_dollars(funded)} exceed half the customer's yearly income",
            )
        )
    return reasons


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"
