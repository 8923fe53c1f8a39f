"""The loan book: applications copied from the shared dataset, moved by the stage machine.

Seeded applications carry only their current stage, so their history is rebuilt as the
shortest walk to it, spread evenly between submission and the last update.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mocks.dataset import LOAN_DOCUMENTS
from mocks.loans.models import (
    NEXT_STAGES,
    ApplicationRecord,
    DocumentRecord,
    DocumentStatus,
    Stage,
    StageChange,
)
from mocks.platform.problem import Problem
from mocks.platform.rest import SerialIds, WallClock, check_if_match

if TYPE_CHECKING:
    from mocks.dataset import Dataset, Loan, Product

__all__ = ["GENERIC_DOCUMENTS", "LoanStore"]

# For a loan product the catalogue has no paperwork list for.
GENERIC_DOCUMENTS: tuple[str, ...] = ("government_id", "proof_of_income", "bank_statements")
_WALKS: dict[str, tuple[Stage, ...]] = {
    "submitted": ("submitted",),
    "underwriting": ("submitted", "underwriting"),
    "approved": ("submitted", "underwriting", "approved"),
    "declined": ("submitted", "underwriting", "declined"),
    "funded": ("submitted", "underwriting", "approved", "funded"),
}
# Paperwork is frozen once a decision is made, so "approved" always means "all verified".
_DOCUMENTS_LOCKED = ("approved", "declined", "funded")


def _seeded_history(loan: Loan) -> list[StageChange]:
    walk = _WALKS[loan.stage]
    span = loan.updated_at - loan.submitted_at
    steps = max(1, len(walk) - 1)
    changes = []
    for index, stage in enumerate(walk):
        at = loan.submitted_at + span * index / steps if index else loan.submitted_at
        changes.append(StageChange(walk[index - 1] if index else None, stage, at, None))
    return changes


class LoanStore:
    def __init__(self, dataset: Dataset, clock: Callable[[], float]) -> None:
        self.clock = WallClock(dataset.reference_now, clock)
        self.products: dict[str, Product] = {
            p.code: p for p in dataset.products if p.kind == "loan"
        }
        self.customer_exists = lambda cid: dataset.customer_by_id(cid) is not None
        self.applications: dict[str, ApplicationRecord] = {}
        for loan in dataset.loans:
            product = self.products.get(loan.product_code)
            self.applications[loan.loan_id] = ApplicationRecord(
                loan.loan_id,
                loan.customer_id,
                loan.product_code,
                product.name if product else loan.product_code,
                loan.amount_cents,
                loan.stage,
                [
                    DocumentRecord(
                        doc.name, doc.status, None if doc.status == "missing" else loan.updated_at
                    )
                    for doc in loan.documents
                ],
                _seeded_history(loan),
                loan.submitted_at,
                loan.updated_at,
            )
        self.ids = SerialIds(list(self.applications), "LN", 8)

    def documents_for(self, product_code: str) -> tuple[str, ...]:
        return LOAN_DOCUMENTS.get(product_code, GENERIC_DOCUMENTS)

    # -- reads ---------------------------------------------------------------------------

    def get(self, application_id: str) -> ApplicationRecord:
        found = self.applications.get(application_id)
        if found is None:
            raise Problem(
                404,
                "not-found",
                "no loan application has this application_id",
                errors=[("application_id", "unknown application")],
            )
        return found

    def find(self, customer_id: str | None, stage: str | None) -> list[ApplicationRecord]:
        return [
            a
            for a in self.applications.values()
            if (customer_id is None or a.customer_id == customer_id)
            and (stage is None or a.stage == stage)
        ]

    # -- writes --------------------------------------------------------------------------

    def create(self, customer_id: str, product_code: str, amount_cents: int) -> ApplicationRecord:
        errors = []
        if not self.customer_exists(customer_id):
            errors.append(("customer_id", "no customer has this id"))
        product = self.products.get(product_code)
        if product is None:
            codes = ", ".join(sorted(self.products))
            errors.append(("product_code", f"not a loan product; loan products: {codes}"))
        elif product.max_amount_cents is not None and amount_cents > product.max_amount_cents:
            errors.append(
                ("amount_cents", f"{product.code} lends at most {product.max_amount_cents} cents")
            )
        if errors:
            fields = ", ".join(field for field, _ in errors)
            raise Problem(
                422,
                "validation-error",
                f"the application is not valid: {fields}",
                title="Validation failed",
                errors=errors,
            )
        assert product is not None
        now = self.clock.now()
        application = ApplicationRecord(
            self.ids.next(),
            customer_id,
            product.code,
            product.name,
            amount_cents,
            "submitted",
            [DocumentRecord(name, "missing", None) for name in self.documents_for(product.code)],
            [StageChange(None, "submitted", now, "application received")],
            now,
            now,
        )
        self.applications[application.application_id] = application
        return application

    def transition(
        self, application: ApplicationRecord, to: Stage, reason: str | None, if_match: str | None
    ) -> Stage:
        check_if_match(if_match, application.version, f"application {application.application_id}")
        was = application.stage
        allowed = NEXT_STAGES[was]
        if to not in allowed:
            listed = ", ".join(allowed) or "none (final stage)"
            raise Problem(
                409,
                "invalid-transition",
                f"application {application.application_id} cannot move from {was} to {to}; "
                f"allowed: {listed}",
                title="Invalid stage transition",
                errors=[("to", f"not allowed from {was}")],
                current_stage=was,
                requested_stage=to,
                allowed_transitions=list(allowed),
            )
        unverified = application.unverified()
        if to == "approved" and unverified:
            status_of = {doc.name: doc.status for doc in application.documents}
            raise Problem(
                409,
                "documents-not-verified",
                f"application {application.application_id} cannot be approved until every "
                f"document is verified; not verified: {', '.join(unverified)}",
                title="Documents not verified",
                errors=[(f"documents.{name}", f"is {status_of[name]}") for name in unverified],
                current_stage=was,
                requested_stage=to,
                unverified_documents=unverified,
            )
        now = self._bump(application)
        application.stage = to
        application.history.append(StageChange(was, to, now, reason))
        return was

    def set_document(
        self,
        application: ApplicationRecord,
        name: str,
        status: DocumentStatus,
        if_match: str | None,
    ) -> tuple[DocumentRecord, DocumentStatus]:
        document = application.document(name)
        if document is None:
            names = ", ".join(doc.name for doc in application.documents)
            raise Problem(
                404,
                "not-found",
                f"application {application.application_id} has no document by that "
                f"name; its checklist: {names}",
                errors=[("name", "not a document of this application's checklist")],
            )
        check_if_match(if_match, application.version, f"application {application.application_id}")
        if application.stage in _DOCUMENTS_LOCKED:
            raise Problem(
                409,
                "documents-locked",
                f"application {application.application_id} is {application.stage}; "
                "its documents can no longer change",
                title="Documents locked",
                errors=[("status", "the checklist is closed")],
                current_stage=application.stage,
            )
        was = document.status
        if status != was:
            document.status = status
            document.updated_at = self._bump(application)
        return document, was

    def _bump(self, application: ApplicationRecord) -> datetime:
        application.version += 1
        now = max(self.clock.now(), application.updated_at + timedelta(milliseconds=1))
        application.updated_at = now
        return now
