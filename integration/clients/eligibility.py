"""The eligibility service: does a customer qualify for a product (a decision, recorded)."""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["EligibilityClient"]


class EligibilityClient:
    system = "eligibility"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the API root above ``/v1`` (the mocks: ``<mocks_url>/eligibility``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._api_key = credentials.eligibility_api_key

    async def check(
        self,
        attempt: AttemptState,
        customer_id: str,
        product_code: str,
        idempotency_key: str,
        *,
        amount_cents: int | None = None,
    ) -> dict[str, Any]:
        """The decision with its reasons. A check creates a record, so the same
        ``idempotency_key`` on a retry returns the first answer instead of a second check.
        An unknown customer raises NotFound; an unknown product, Rejected."""
        body: dict[str, Any] = {"customer_id": customer_id, "product_code": product_code}
        if amount_cents is not None:
            body["amount_cents"] = amount_cents
        result = await self.http.send_json(
            "check",
            attempt,
            "POST",
            "/v1/checks",
            json=body,
            headers={"X-Api-Key": self._api_key, "Idempotency-Key": idempotency_key},
        )
        if not isinstance(result, dict) or "decision" not in result:
            raise self.http.malformed("check", attempt, "check result has no decision")
        return result
