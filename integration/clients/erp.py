"""The ERP: a customer's orders, newest first."""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._rest import collect_pages
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["ErpClient"]


class ErpClient:
    system = "erp"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is the API root above ``/api/v1`` (the mocks: ``<mocks_url>/erp``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._api_key = credentials.erp_api_key

    async def orders_for_customer(
        self, attempt: AttemptState, customer_id: str
    ) -> list[dict[str, Any]]:
        """Status, lines and totals of each order; ``[]`` when there are none."""
        return await collect_pages(
            self.http,
            "orders_for_customer",
            attempt,
            "/api/v1/orders",
            {"customer_id": customer_id},
            self._api_key,
        )
