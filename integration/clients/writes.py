"""The clients the write path delivers effects through, one per target system, built from
settings. The CRM client is the read path's own instance, passed in, so one OAuth token
(and one refresh after a 401) serves lookups and deliveries alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from integration.clients.analytics import SegmentClient
from integration.clients.calendar import GoogleCalendarClient
from integration.clients.crm import SalesforceClient
from integration.clients.email import SendGridClient
from integration.clients.loans import LoansClient
from integration.clients.messaging import TwilioMessagesClient
from integration.clients.middleware import GatewayLoansClient
from integration.clients.payments import StripeClient
from integration.clients.reads import loans_client
from integration.clients.slack import SlackClient
from integration.settings import IntegrationSettings
from integration.transports.base import Transport

__all__ = ["WriteClients", "build_write_clients"]


@dataclass
class WriteClients:
    crm: SalesforceClient
    calendar: GoogleCalendarClient
    messaging: TwilioMessagesClient
    email: SendGridClient
    slack: SlackClient
    analytics: SegmentClient
    payments: StripeClient
    loans: LoansClient | GatewayLoansClient


def build_write_clients(
    settings: IntegrationSettings,
    transport: Transport,
    crm: SalesforceClient,
    gateways: Mapping[str, str] | None = None,
) -> WriteClients:
    """Base URLs are each system's prefix on the mock enterprise, as in ``build_clients``
    (``gateways`` too). Nothing here holds a connection or a task: closing the transport
    (and the CRM client, which its owner does) is all the cleanup there is."""
    base = settings.mocks_url.rstrip("/")
    creds = settings.credentials
    return WriteClients(
        crm=crm,
        calendar=GoogleCalendarClient(transport, f"{base}/calendar", creds),
        messaging=TwilioMessagesClient(
            transport, f"{base}/messaging", creds, status_callback=settings.status_callback_url
        ),
        email=SendGridClient(transport, f"{base}/email", creds),
        slack=SlackClient(transport, f"{base}/slack", creds),
        analytics=SegmentClient(transport, f"{base}/analytics", creds),
        payments=StripeClient(transport, f"{base}/payments", creds),
        loans=loans_client(settings, transport, gateways),
    )
