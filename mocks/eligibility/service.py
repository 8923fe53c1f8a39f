"""Credit eligibility: a JSON API that decides from the customer's records in the dataset."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import APIRouter

from mocks.eligibility.routes import build_router
from mocks.eligibility.store import EligibilityStore
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["EligibilityService"]


class EligibilityService(MockService):
    name: ClassVar[str] = "eligibility"
    title: ClassVar[str] = "Eligibility"
    vendor: ClassVar[str] = "In-house decisioning API (JSON, X-Api-Key)"
    summary: ClassVar[str] = (
        "Decides whether a customer qualifies for a product: eligible, ineligible or review, "
        "with reasons, the most they can borrow and the rate. POST /v1/checks honours "
        "Idempotency-Key."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = EligibilityStore(ctx.dataset)

    def router(self) -> APIRouter:
        return build_router(self)

    def reset(self) -> None:
        self.store.clear()
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        given = headers.get("x-api-key")
        if not given:
            return AuthFailure(401, "unauthorized", "Missing X-Api-Key header")
        expected = self.ctx.settings.credentials.eligibility_api_key
        if not secrets.compare_digest(given.encode(), expected.encode()):
            return AuthFailure(401, "unauthorized", "Invalid API key")
        return None

    def error_body(self, status: int, reason: str, message: str) -> Any:
        return {"error": {"code": reason, "message": message}}
