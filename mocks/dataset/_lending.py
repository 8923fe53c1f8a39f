"""Loan applications at every stage, with the paperwork each one is waiting on."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ._clock import between
from ._draw import Weighted
from ._ids import serials
from .cast import is_borrower, waiting_documents
from .catalog import LOAN_DOCUMENTS, LOAN_PRODUCTS
from .model import Customer, DocumentItem, DocumentStatus, Loan, LoanStage, Product

HAS_LOAN_RATE = 0.30
SECOND_LOAN_RATE = 0.25  # of customers with a loan

STAGES: tuple[LoanStage, ...] = ("submitted", "underwriting", "approved", "declined", "funded")
# Applicants who meet the product's floor mostly get funded; the rest mostly get declined
# and are never approved, so the eligibility mock and the loan book agree.
_ELIGIBLE_STAGE = Weighted(STAGES, (10, 15, 15, 5, 55))
_INELIGIBLE_STAGE = Weighted(STAGES, (20, 20, 0, 60, 0))
# Days before now that an application in each stage was submitted (low, high).
_AGE_DAYS: dict[str, tuple[int, int]] = {
    "submitted": (0, 7),
    "underwriting": (2, 25),
    "approved": (7, 45),
    "declined": (3, 400),
    "funded": (30, 1500),
}
_DOC_STATUSES: tuple[DocumentStatus, ...] = ("missing", "received", "verified")
_DOC_STATUS: dict[str, Weighted[DocumentStatus]] = {
    stage: Weighted(_DOC_STATUSES, weights)
    for stage, weights in {
        "submitted": (50, 50, 0),
        "underwriting": (10, 40, 50),
        "approved": (0, 0, 1),
        "funded": (0, 0, 1),
        "declined": (30, 40, 30),
    }.items()
}
_BY_CODE = {p.code: p for p in LOAN_PRODUCTS}
_PERSONAL_MIX = Weighted(
    ("LOAN-PERSONAL", "LOAN-AUTO", "MORTGAGE-30Y", "MORTGAGE-15Y", "HELOC"), (35, 30, 18, 7, 10)
)


def _product(rng: random.Random, c: Customer) -> Product:
    if c.segment == "small_business" and rng.random() < 0.6:
        return _BY_CODE["LOAN-SMALLBIZ"]
    return _BY_CODE[_PERSONAL_MIX.draw(rng)]


def _amount(rng: random.Random, product: Product) -> int:
    ceiling = product.max_amount_cents or 0
    # Whole $500 steps, between 5% and 60% of the product's ceiling.
    return max(1, round(rng.uniform(0.05, 0.6) * ceiling / 50_000)) * 50_000


def make_loans(rng: random.Random, customers: list[Customer], now: datetime) -> list[Loan]:
    drafts = []
    for c in customers:
        borrower = is_borrower(c.customer_id)  # the example borrower (cast.py) always has one
        if rng.random() >= HAS_LOAN_RATE and not borrower:
            continue
        applications = 2 if rng.random() < SECOND_LOAN_RATE else 1
        for _ in range(1 if borrower else applications):
            product = _product(rng, c)
            eligible = (
                c.credit_score >= product.min_credit_score and c.annual_income >= product.min_income
            )
            stage = (_ELIGIBLE_STAGE if eligible else _INELIGIBLE_STAGE).draw(rng)
            if borrower:
                stage = "underwriting"
            low, high = _AGE_DAYS[stage]
            submitted = max(c.created_at, now - timedelta(days=rng.uniform(low, high)))
            submitted = submitted.replace(microsecond=0)
            docs = tuple(
                DocumentItem(name, _DOC_STATUS[stage].draw(rng))
                for name in LOAN_DOCUMENTS[product.code]
            )
            if borrower:
                docs = waiting_documents(docs)
            updated = between(rng, submitted, now)
            drafts.append(
                (
                    c.customer_id,
                    product.code,
                    _amount(rng, product),
                    stage,
                    docs,
                    submitted,
                    updated,
                )
            )
    ids = serials(rng, "LN", 8, len(drafts))
    return [Loan(loan_id, *draft) for loan_id, draft in zip(ids, drafts, strict=True)]
