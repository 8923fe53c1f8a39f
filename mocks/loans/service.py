"""Loan origination: applications, their paperwork and the underwriting stage machine."""

from __future__ import annotations

from typing import Any

from mocks.loans.models import (
    ApplicationRecord,
    CreateApplication,
    DocumentUpdate,
    Stage,
    TransitionRequest,
)
from mocks.loans.store import LoanStore
from mocks.platform.idempotency import StoredResponse
from mocks.platform.rest import EnterpriseRestService, etag, page, stored
from mocks.platform.service import SystemContext

__all__ = ["API_PREFIX", "LoansService"]

API_PREFIX = "/loans/api/v1"  # where Location headers point


def _newest_first(application: ApplicationRecord) -> tuple[float, str]:
    return application.submitted_at.timestamp(), application.application_id


class LoansService(EnterpriseRestService):
    name = "loans"
    title = "Loan origination"
    summary = (
        "Loan applications under /loans/api/v1, authenticated with X-Api-Key. Loan "
        "origination systems are mostly bespoke, so this speaks the style of a typical modern "
        'enterprise API rather than one vendor\'s: one resource is {"data": {...}}, a list is '
        '{"data": [...], "next_cursor": ...}; every error is application/problem+json '
        "(RFC 9457) with type, title, status, detail, instance and errors [{field, message}]. "
        "Applications move submitted -> underwriting -> approved | declined, approved -> "
        "funded; approval needs every document verified. Writes honour Idempotency-Key; "
        "If-Match is optional and checked when sent."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = LoanStore(ctx.dataset, ctx.clock)

    def reset(self) -> None:
        self.store = LoanStore(self.ctx.dataset, self.ctx.clock)
        super().reset()

    def api_key(self) -> str:
        return self.ctx.settings.credentials.loans_api_key

    # -- reads -----------------------------------------------------------------------

    def products(self) -> dict[str, Any]:
        return {
            "data": [
                {
                    "code": product.code,
                    "name": product.name,
                    "max_amount_cents": product.max_amount_cents,
                    "apr_bps": product.apr_bps,
                    "min_credit_score": product.min_credit_score,
                    "required_documents": list(self.store.documents_for(product.code)),
                }
                for product in self.store.products.values()
            ],
            "next_cursor": None,
        }

    def application_page(
        self, customer_id: str | None, stage: Stage | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        found = self.store.find(customer_id, stage)
        return page(found, _newest_first, limit, cursor, ApplicationRecord.as_json)

    # -- writes: each runs under run_write's idempotency key, which it records -----------

    def submit(self, body: CreateApplication, key: str | None) -> StoredResponse:
        application = self.store.create(body.customer_id, body.product_code, body.amount_cents)
        self.ledger.record(
            "application.create",
            application.application_id,
            key,
            customer_id=application.customer_id,
            product_code=application.product_code,
            amount_cents=application.amount_cents,
        )
        location = f"{API_PREFIX}/applications/{application.application_id}"
        return stored(201, application.as_json(), ETag=etag(application.version), Location=location)

    def move(
        self, application_id: str, body: TransitionRequest, if_match: str | None, key: str | None
    ) -> StoredResponse:
        application = self.store.get(application_id)
        was = self.store.transition(application, body.to, body.reason, if_match)
        self.ledger.record(
            "application.transition",
            application.application_id,
            key,
            from_stage=was,
            to_stage=application.stage,
            reason=body.reason,
        )
        return stored(200, application.as_json(), ETag=etag(application.version))

    def mark_document(
        self,
        application_id: str,
        name: str,
        body: DocumentUpdate,
        if_match: str | None,
        key: str | None,
    ) -> StoredResponse:
        application = self.store.get(application_id)
        document, was = self.store.set_document(application, name, body.status, if_match)
        if document.status != was:  # setting the status it already has changes nothing
            self.ledger.record(
                "document.update",
                application.application_id,
                key,
                document=name,
                from_status=was,
                to_status=document.status,
            )
        data = {**document.as_json(), "application_id": application.application_id}
        return stored(200, data, ETag=etag(application.version))
