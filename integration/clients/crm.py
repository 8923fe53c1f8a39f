"""Salesforce: contacts and leads by phone, one lead by id (REST API, SOQL); and the
write path's lead updates and tasks, each under the effect's ``Idempotency-Key``.

Every request carries the managed OAuth token. A 401 means the session ended before we
thought: the client trades that token in (one refresh, shared with every other caller
that saw it) and repeats the request once, inside the same attempt, so the breaker never
counts a 401 a refresh fixed. A second 401 is a real ``CredentialsRejected``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

from integration.clients._http import AttemptBudget, AttemptState, VendorHttp
from integration.clients._write import send_write, send_write_json
from integration.clients.phone_formats import phone_variants
from integration.clients.tokens import OAuthTokenManager, SharedToken
from integration.errors import CredentialsRejected, MalformedResponse, SourceError
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["AUTOMATIONS_HEADER", "CONTACT_FIELDS", "LEAD_FIELDS", "SalesforceClient", "soql_quote"]

T = TypeVar("T")

API_VERSION = "v59.0"
# Which automations (flows, triggers) a write set off, as the mock org reports them.
AUTOMATIONS_HEADER = "x-switchboard-automations"
CONTACT_FIELDS = (
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Name",
    "Email",
    "Phone",
    "MobilePhone",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "Customer_Id__c",
    "LastModifiedDate",
)
LEAD_FIELDS = (
    "Id",
    "FirstName",
    "LastName",
    "Name",
    "Company",
    "Email",
    "Phone",
    "MobilePhone",
    "Status",
    "LeadSource",
    "Rating",
    "IsConverted",
    "Customer_Id__c",
    "LastModifiedDate",
)
MAX_PAGES = 20  # a phone matches a handful of records; more pages than this is a runaway

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def soql_quote(value: str) -> str:
    """A SOQL string literal: quoted, with Salesforce's escape sequences for the rest."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in value) + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(soql_quote(v) for v in values) + ")"


class SalesforceClient:
    system = "crm"

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        credentials: VendorCredentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        token_ttl_s: float = 3600.0,
        refresh_margin_s: float = 60.0,
        api_version: str = API_VERSION,
        batch_size: int | None = None,
        shared_token: SharedToken | None = None,
    ) -> None:
        """``base_url`` is the org's instance URL (the mocks: ``<mocks_url>/crm``);
        ``batch_size`` (200-2000) asks for smaller result pages than Salesforce's 2,000."""
        self.http = VendorHttp(transport, self.system, base_url)
        self.tokens = OAuthTokenManager(
            self.http,
            credentials.crm_client_id,
            credentials.crm_client_secret,
            clock=clock,
            default_ttl_s=token_ttl_s,
            refresh_margin_s=refresh_margin_s,
            shared=shared_token,
        )
        self.data_path = f"/services/data/{api_version}"
        self._query_options = (
            {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        )

    async def find_contacts_by_phone(
        self, attempt: AttemptState, e164: str
    ) -> list[dict[str, Any]]:
        """Every Contact whose Phone is any spelling of ``e164`` (duplicates included)."""
        soql = (
            f"SELECT {', '.join(CONTACT_FIELDS)} FROM Contact "
            f"WHERE Phone IN {_in_list(phone_variants(e164))}"
        )
        return await self.query(attempt, soql, operation="find_contacts_by_phone")

    async def find_leads_by_phone(self, attempt: AttemptState, e164: str) -> list[dict[str, Any]]:
        soql = (
            f"SELECT {', '.join(LEAD_FIELDS)} FROM Lead "
            f"WHERE Phone IN {_in_list(phone_variants(e164))}"
        )
        return await self.query(attempt, soql, operation="find_leads_by_phone")

    async def get_lead(self, attempt: AttemptState, lead_id: str) -> dict[str, Any]:
        """One Lead by id; an unknown id raises NotFound."""
        budget = AttemptBudget(attempt.timeout_s)
        path = f"{self.data_path}/sobjects/Lead/{quote(lead_id, safe='')}"
        body = await self._authorized(
            "get_lead", attempt, budget, path, {"fields": ",".join(LEAD_FIELDS)}
        )
        if not isinstance(body, dict):
            raise self.http.malformed("get_lead", attempt, "record is not an object")
        return _plain(body)

    async def query(
        self, attempt: AttemptState, soql: str, *, operation: str = "query"
    ) -> list[dict[str, Any]]:
        """Every record a SOQL query selects, following ``nextRecordsUrl`` page by page.
        Values put into ``soql`` must go through ``soql_quote``."""
        budget = AttemptBudget(attempt.timeout_s)
        page = await self._authorized(
            operation, attempt, budget, f"{self.data_path}/query", {"q": soql}
        )
        records: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                raise self.http.malformed(operation, attempt, "query result has no records")
            records.extend(_plain(r) for r in page["records"] if isinstance(r, dict))
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return records
            page = await self._authorized(operation, attempt, budget, str(next_url), None)
        raise MalformedResponse(self.system, operation, f"more than {MAX_PAGES} pages of results")

    # -- writes (the outbox's deliveries) ------------------------------------------------

    async def update_lead(
        self, attempt: AttemptState, lead_id: str, fields: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """PATCH the Lead. Salesforce answers 204 with no body, so the result is the id and
        the automations the change set off (None when it set off none)."""
        budget = AttemptBudget(attempt.timeout_s)
        path = f"{self.data_path}/sobjects/Lead/{quote(lead_id, safe='')}"

        async def patch(token: str) -> dict[str, Any]:
            response = await send_write(
                self.http,
                "update_lead",
                attempt,
                "PATCH",
                path,
                json=fields,
                timeout_s=budget.left(),
                headers=self._write_headers(token, key),
            )
            return {"id": lead_id, "automations": response.headers.get(AUTOMATIONS_HEADER)}

        return await self._with_token("update_lead", attempt, budget, patch)

    async def create_task(
        self, attempt: AttemptState, fields: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """Create a Task (a call log, a callback to make); ``{"id": ...}``."""
        budget = AttemptBudget(attempt.timeout_s)
        path = f"{self.data_path}/sobjects/Task"

        async def post(token: str) -> dict[str, Any]:
            created = await send_write_json(
                self.http,
                "create_task",
                attempt,
                "POST",
                path,
                json=fields,
                timeout_s=budget.left(),
                headers=self._write_headers(token, key),
            )
            if not isinstance(created, dict) or not created.get("id"):
                raise self.http.malformed("create_task", attempt, "create answer has no id")
            return {"id": str(created["id"])}

        return await self._with_token("create_task", attempt, budget, post)

    async def aclose(self) -> None:
        await self.tokens.aclose()

    # -- plumbing -----------------------------------------------------------------------

    async def _authorized(
        self,
        operation: str,
        attempt: AttemptState,
        budget: AttemptBudget,
        path: str,
        params: dict[str, str] | None,
    ) -> Any:
        async def get(token: str) -> Any:
            return await self._get(operation, attempt, budget, path, params, token)

        return await self._with_token(operation, attempt, budget, get)

    async def _with_token(
        self,
        operation: str,
        attempt: AttemptState,
        budget: AttemptBudget,
        request: Callable[[str], Awaitable[T]],
    ) -> T:
        """``request(token)``; after a 401, once more with a refreshed token."""
        try:
            token = await self.tokens.token(budget.left())
            try:
                return await request(token)
            except CredentialsRejected:
                token = await self.tokens.invalidate(token, budget.left())
                return await request(token)
        except SourceError as error:
            if error.operation != operation:  # the token request failed: say so on the attempt
                attempt.status, attempt.injected_fault = error.status, error.injected_fault
            raise

    async def _get(
        self,
        operation: str,
        attempt: AttemptState,
        budget: AttemptBudget,
        path: str,
        params: dict[str, str] | None,
        token: str,
    ) -> Any:
        return await self.http.send_json(
            operation,
            attempt,
            "GET",
            path,
            timeout_s=budget.left(),
            params=params,
            headers={"Authorization": f"Bearer {token}", **self._query_options},
        )

    def _write_headers(self, token: str, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """The record's fields, without Salesforce's ``attributes`` envelope."""
    return {k: v for k, v in record.items() if k != "attributes"}
