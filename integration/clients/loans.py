"""The loan origination system: a customer's applications, newest first; moving one to its
next stage (the write path)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._rest import collect_pages
from integration.clients._write import send_write_json
from integration.settings import VendorCredentials
from integration.transports.base import Transport

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
            self.http,
            "applications_for_customer",
            attempt,
            "/api/v1/applications",
            {"customer_id": customer_id},
            self._api_key,
        )

    async def advance_stage(
        self, attempt: AttemptState, application_id: str, stage: str, key: str
    ) -> dict[str, Any]:
        """The application after its move to ``stage``. A move the stage machine does not
        allow (or an approval with documents unverified) is a 409: Rejected."""
        path = f"/api/v1/applications/{quote(application_id, safe='')}/transitions"
        body = await send_write_json(
            self.http,
            "advance_stage",
            attempt,
            "POST",
            path,
            json={"to": stage},
            headers={"X-Api-Key": self._api_key, "Idempotency-Key": key},
        )
        application = body.get("data") if isinstance(body, dict) else None
        if not isinstance(application, dict) or "stage" not in application:
            raise self.http.malformed("advance_stage", attempt, "application has no stage")
        return application
