"""The loan origination system: a customer's applications, newest first."""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._rest import collect_pages
from integration.settings import VendorCredentials
from integration.transport import Transport

__all__ = ["LoansClient"]


class LoansClient:
    system = "loans"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the API root above ``/api/v1`` (the mocks: ``<mocks_url>/loans``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._api_key = credentials.loans_api_key

    async def applications_for_customer(
        self, attempt: AttemptState, customer_id: str
    ) -> list[dict[str, Any]]:
        """Stage, documents and history of each application; ``[]`` when there are none."""
        return await collect_pages(
            self.http, "applications_for_customer", attempt, "/api/v1/applications",
            {"customer_id": customer_id}, self._api_key,
        )  # fmt: skip
