"""Loan origination: applications, their paperwork and the underwriting stage machine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from mocks.loans.store import LoanStore
from mocks.platform.problem import PROBLEM_MEDIA_TYPE, problem_body
from mocks.platform.rest import api_key_failure
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["LoansService"]


class LoansService(MockService):
    name = "loans"
    title = "Loan origination"
    vendor = (
        "Generic enterprise REST API (no single vendor): JSON envelopes, RFC 9457 "
        "problem+json errors, ETag/If-Match concurrency, Idempotency-Key"
    )
    error_media_type = PROBLEM_MEDIA_TYPE
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

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        return api_key_failure(headers, self.ctx.settings.credentials.loans_api_key)

    def error_body(self, status: int, reason: str, message: str) -> Any:
        return problem_body(status, reason, message)
