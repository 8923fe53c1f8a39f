"""Vendor clients: one per source system, each in that vendor's own wire format.

Every method takes the executor's ``Attempt`` first, writes back the HTTP status and
the injected fault it saw, and raises the ``SourceError`` kinds of ``integration.errors``
(the table is in ``_http.py``). Clients hold no global state; the composition root makes
them with a transport, a base URL and the credentials. Write methods also take the
effect's idempotency key and send it the way each vendor honours it.
"""

from __future__ import annotations

from integration.clients.analytics import SegmentClient
from integration.clients.calendar import GoogleCalendarClient
from integration.clients.crm import SalesforceClient
from integration.clients.database import CoreBankingDatabase
from integration.clients.eligibility import EligibilityClient
from integration.clients.email import SendGridClient
from integration.clients.erp import ErpClient
from integration.clients.loans import LoansClient
from integration.clients.messaging import TwilioMessagesClient
from integration.clients.payments import StripeClient
from integration.clients.phone_formats import phone_variants
from integration.clients.reads import LayerClients, build_clients
from integration.clients.slack import SlackClient
from integration.clients.telephony import TwilioCallsClient
from integration.clients.tokens import OAuthTokenManager
from integration.clients.writes import WriteClients, build_write_clients

__all__ = [
    "CoreBankingDatabase",
    "EligibilityClient",
    "ErpClient",
    "GoogleCalendarClient",
    "LayerClients",
    "LoansClient",
    "OAuthTokenManager",
    "SalesforceClient",
    "SegmentClient",
    "SendGridClient",
    "SlackClient",
    "StripeClient",
    "TwilioCallsClient",
    "TwilioMessagesClient",
    "WriteClients",
    "build_clients",
    "build_write_clients",
    "phone_variants",
]
