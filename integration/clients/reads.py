"""Every client the layer uses, built from settings, and the names the caller lookup reads
them by (``LookupClients`` in ``integration.lookup.caller_lookup``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integration.clients._http import AttemptState
from integration.clients.core import CoreSoapClient
from integration.clients.crm import SalesforceClient
from integration.clients.database import CoreBankingDatabase
from integration.clients.eligibility import EligibilityClient
from integration.clients.erp import ErpClient
from integration.clients.loans import LoansClient
from integration.clients.middleware import GatewayErpClient, GatewayLoansClient
from integration.clients.sheets import GoogleSheetsClient
from integration.clients.telephony import TwilioCallsClient
from integration.clients.tokens import OAuthTokenManager, SharedToken
from integration.settings import IntegrationSettings
from integration.transports.base import Transport

__all__ = ["LayerClients", "build_clients"]


@dataclass
class LayerClients:
    crm: SalesforceClient
    database: CoreBankingDatabase
    eligibility_api: EligibilityClient
    telephony: TwilioCallsClient
    loans_api: LoansClient | GatewayLoansClient
    erp: ErpClient | GatewayErpClient
    core: CoreSoapClient
    sheets: GoogleSheetsClient

    @property
    def crm_tokens(self) -> OAuthTokenManager:
        return self.crm.tokens

    async def contacts(self, attempt: AttemptState, phone: str) -> list[dict[str, Any]]:
        return await self.crm.find_contacts_by_phone(attempt, phone)

    async def call_history(self, attempt: AttemptState, phone: str) -> list[dict[str, Any]]:
        return await self.telephony.recent_calls(attempt, phone)

    async def accounts(self, attempt: AttemptState, customer_id: str) -> list[dict[str, Any]]:
        return await self.database.accounts_for_customer(attempt, customer_id)

    async def eligibility(
        self, attempt: AttemptState, customer_id: str, product: str, key: str
    ) -> dict[str, Any]:
        return await self.eligibility_api.check(attempt, customer_id, product, key)

    async def loans(self, attempt: AttemptState, customer_id: str) -> list[dict[str, Any]]:
        return await self.loans_api.applications_for_customer(attempt, customer_id)

    async def orders(self, attempt: AttemptState, customer_id: str) -> list[dict[str, Any]]:
        return await self.erp.orders_for_customer(attempt, customer_id)

    async def holdings(self, attempt: AttemptState, customer_id: str) -> dict[str, Any]:
        return await self.core.customer_holdings(attempt, customer_id)

    async def caller_lists(self, attempt: AttemptState) -> dict[str, Any]:
        return await self.sheets.caller_lists(attempt)

    async def aclose(self) -> None:
        """Stops a token refresh in flight and lets go of the database engine; the shared
        transport is closed by whoever made it."""
        await self.crm.aclose()
        await self.database.aclose()
        await self.core.aclose()


def build_clients(
    settings: IntegrationSettings,
    transport: Transport,
    *,
    clock: Callable[[], float] = time.monotonic,
    database_threads: int = 20,
    crm_token: SharedToken | None = None,
    gateways: Mapping[str, str] | None = None,
) -> LayerClients:
    """Each vendor's base URL is its prefix on the mock enterprise; against real vendors
    these are the instance URL, Twilio's API root and so on. ``gateways`` (the system
    map's ``SystemMap.gateways()``) names the systems reached through a gateway."""
    base = settings.mocks_url.rstrip("/")
    creds = settings.credentials
    crm = SalesforceClient(
        transport,
        f"{base}/crm",
        creds,
        clock=clock,
        token_ttl_s=settings.crm_token_ttl_s,
        refresh_margin_s=settings.crm_token_refresh_margin_s,
        shared_token=crm_token,
    )
    return LayerClients(
        crm=crm,
        database=CoreBankingDatabase(settings.database_url, max_workers=database_threads),
        eligibility_api=EligibilityClient(transport, f"{base}/eligibility", creds),
        telephony=TwilioCallsClient(transport, f"{base}/telephony", creds),
        loans_api=loans_client(settings, transport, gateways),
        erp=(
            GatewayErpClient(transport, gateway_url(settings, gateways, "erp"), creds)
            if gateways and "erp" in gateways
            else ErpClient(transport, f"{base}/erp", creds)
        ),
        core=CoreSoapClient(transport, f"{base}/core", creds, clock=clock),
        sheets=GoogleSheetsClient(transport, f"{base}/sheets", creds, settings.caller_lists_sheet),
    )


def gateway_url(settings: IntegrationSettings, gateways: Mapping[str, str], system: str) -> str:
    """Where the gateway that fronts ``system`` answers; only the middleware mock exists."""
    gateway = gateways[system]
    if gateway != "middleware":
        raise ValueError(f"{system}: no client speaks to a gateway named {gateway!r}")
    return f"{settings.mocks_url.rstrip('/')}/{gateway}"


def loans_client(
    settings: IntegrationSettings, transport: Transport, gateways: Mapping[str, str] | None
) -> LoansClient | GatewayLoansClient:
    """The loans system's client, direct or through its gateway (reads and writes alike)."""
    if gateways and "loans" in gateways:
        url = gateway_url(settings, gateways, "loans")
        return GatewayLoansClient(transport, url, settings.credentials)
    return LoansClient(transport, f"{settings.mocks_url.rstrip('/')}/loans", settings.credentials)
