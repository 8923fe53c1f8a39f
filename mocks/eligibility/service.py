"""Credit eligibility: a JSON API that decides from the customer's records in the dataset."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from mocks.eligibility._envelope import EligibilityError
from mocks.eligibility.models import CheckRequest
from mocks.eligibility.store import EligibilityStore, UnknownCustomer, UnknownProduct
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
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

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        error = {"code": reason, "message": message}
        return {"error": {**error, "param": field} if field else error}

    async def create_check(
        self, body: CheckRequest, key: str | None
    ) -> tuple[StoredResponse, bool]:
        """One decision per ``Idempotency-Key``: (the answer, whether it was replayed)."""

        async def apply() -> StoredResponse:
            check = self.store.create_check(body.customer_id, body.product_code, body.amount_cents)
            self.ledger.record(
                "check.create",
                check["check_id"],
                key,
                customer_id=check["customer_id"],
                product_code=check["product_code"],
                decision=check["decision"],
            )
            return StoredResponse(200, check)

        request_print = fingerprint("POST", "/v1/checks", body.model_dump())
        try:
            return await self.idempotency.run(key, request_print, apply)
        except UnknownProduct:
            known = ", ".join(p.code for p in self.store.dataset.products)
            raise EligibilityError(
                422,
                "unknown_product",
                f"product_code is not in the catalog; known: {known}",
                param="product_code",
            ) from None
        except UnknownCustomer:
            raise EligibilityError(
                404,
                "customer_not_found",
                "No customer has this customer_id",
                param="customer_id",
            ) from None
        except IdempotencyMismatch:
            raise EligibilityError(
                400,
                "idempotency_key_reused",
                "This Idempotency-Key was used with different parameters",
                param="Idempotency-Key",
            ) from None
        except IdempotencyConflict:
            raise EligibilityError(
                409,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry shortly",
            ) from None
