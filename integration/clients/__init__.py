"""Vendor clients: one per source system, each in that vendor's own wire format.

Every read method takes the executor's ``Attempt`` first, writes back the HTTP status and
the injected fault it saw, and raises the ``SourceError`` kinds of ``integration.errors``
(the table is in ``_http.py``). Clients hold no global state; the composition root makes
them with a transport, a base URL and the credentials.
"""

from __future__ import annotations

from integration.clients.crm import SalesforceClient
from integration.clients.database import CoreBankingDatabase
from integration.clients.eligibility import EligibilityClient
from integration.clients.erp import ErpClient
from integration.clients.layer import LayerClients, build_clients
from integration.clients.loans import LoansClient
from integration.clients.phone_formats import phone_variants
from integration.clients.telephony import TwilioCallsClient
from integration.clients.tokens import OAuthTokenManager

__all__ = [
    "CoreBankingDatabase",
    "EligibilityClient",
    "ErpClient",
    "LayerClients",
    "LoansClient",
    "OAuthTokenManager",
    "SalesforceClient",
    "TwilioCallsClient",
    "build_clients",
    "phone_variants",
]
