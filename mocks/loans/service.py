"""Loan origination: applications, their paperwork and the underwriting stage machine."""

from __future__ import annotations

from fastapi import APIRouter

from mocks.loans.store import LoanStore
from mocks.platform.rest import EnterpriseRestService
from mocks.platform.service import SystemContext

__all__ = ["LoansService"]


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

    def router(self) -> APIRouter:
        from mocks.loans.routes import build_router

        return build_router(self)

    def reset(self) -> None:
        self.store = LoanStore(self.ctx.dataset, self.ctx.clock)
        super().reset()

    def api_key(self) -> str:
        return self.ctx.settings.credentials.loans_api_key
