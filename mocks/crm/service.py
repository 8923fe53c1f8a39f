"""The mock CRM: a Salesforce org serving Contacts, Leads, Accounts, Tasks and Opportunities.

Served under ``/crm``; ``instance_url`` is ``<base_url>/crm``, so a client that joins
``instance_url`` with Salesforce's usual paths reaches it. Sessions survive ``reset()``
on purpose: a test's client stays logged in while the records go back to the seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from mocks.crm.automations import SHIPPED_RULES, AutomationEngine, load_rules_file
from mocks.crm.automations.runs import Run
from mocks.crm.errors import (
    GATEWAY_ERROR_CODES,
    SalesforceError,
    entity_is_deleted,
    error_list,
    not_found,
)
from mocks.crm.limits import org_limits
from mocks.crm.oauth import TokenStore, grant_token
from mocks.crm.paging import QueryCursors
from mocks.crm.schema import SObjectType, sobject_named
from mocks.crm.seed import Record
from mocks.crm.soql import Query, SoqlError, parse_soql
from mocks.crm.store import CrmStore
from mocks.crm.writes import check_body
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.platform.webhooks import WebhookSender

__all__ = ["AUTOMATIONS_HEADER", "CrmService", "record_json", "record_url"]

AUTOMATIONS_HEADER = "X-Switchboard-Automations"


class CrmService(MockService):
    name = "crm"
    title = "CRM"
    vendor = "Salesforce REST API v59.0"
    summary = (
        "Contacts, Leads, Accounts, Tasks and Opportunities over Salesforce's REST API: "
        "OAuth 2.0 client-credentials/password tokens, SOQL queries with paging, sObject "
        "create/read/update/delete, read and upsert by External ID (Customer_Id__c), org "
        "limits. Phones are stored exactly as the dataset typed them."
    )
    public_paths: ClassVar[tuple[str, ...]] = (
        "/services/oauth2/token",
        "/services/oauth2/revoke",
        "/services/data",
        "/services/data/",
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.tokens = TokenStore(ctx.clock, ctx.settings.crm_token_ttl_s)
        self.cursors = QueryCursors()
        self.store = CrmStore(ctx.dataset)
        self.api_requests = 0  # REST requests since the last reset (see limits.py)
        rules_file = ctx.settings.crm_automations_file or SHIPPED_RULES
        # Each finished run is also posted, signed, to the configured webhook endpoints.
        self.webhooks = WebhookSender(now=ctx.now, sleep=ctx.sleep)
        self.automations = AutomationEngine(
            ctx, self, load_rules_file(rules_file), on_finished=self._announce_run
        )

    @property
    def instance_url(self) -> str:
        return f"{self.ctx.base_url}/crm"

    # -- platform hooks ------------------------------------------------------------

    async def startup(self) -> None:
        await super().startup()
        # The first caller lookup must not pay for seeding 100k contacts (about a
        # second); reset() keeps unwritten tables, so this stays paid for.
        self.store.warm(("Contact", "Lead", "Account"))
        await self.automations.start()
        await self.webhooks.start()

    async def shutdown(self) -> None:
        await self.automations.stop()
        await self.webhooks.stop()
        await super().shutdown()

    def reset(self) -> None:
        """Records, cursors, ledger and keys back to the seed; sessions stay (module doc)."""
        self.automations.reset()  # first: a run cut short must not write into the new store
        self.webhooks.reset()
        self.store = self.store.reseeded()
        self.cursors.clear()
        self.tokens.ttl_s = self.ctx.settings.crm_token_ttl_s
        self.api_requests = 0
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        # "OAuth <token>" is Salesforce's older spelling and still accepted.
        if scheme.lower() in ("bearer", "oauth") and self.tokens.is_live(token.strip()):
            return None
        return AuthFailure(401, "unauthorized", "Session expired or invalid")

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        code = GATEWAY_ERROR_CODES.get(reason, "UNKNOWN_EXCEPTION")
        return error_list(message, code, [field] if field else None)

    # -- automations hook ------------------------------------------------------------

    def on_record_changed(
        self, obj_type: str, record_id: str, before: Record | None, after: Record
    ) -> list[str]:
        """Called after every applied create (``before`` is None) and update.

        Returns the names of the automations the change triggered; the response then
        carries them in ``X-Switchboard-Automations`` while the runs go on in the background.
        """
        return self.automations.trigger(obj_type, record_id, before, after)

    def _announce_run(self, run: Run) -> None:
        """``automation_run.succeeded`` (or ``.failed``) with the run, step by step."""
        self.webhooks.emit(
            f"automation_run.{run.status}", {"object": "automation_run", **run.as_json()}
        )

    # -- sessions --------------------------------------------------------------------

    def grant_token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """A new session for a valid token request; raises OAuthRefusal."""
        credentials = self.ctx.settings.credentials
        return grant_token(form, authorization, credentials, self.tokens, self.instance_url)

    # -- reads -----------------------------------------------------------------------

    def count_api_request(self) -> int:
        """One more REST request against the daily allocation; returns the count so far."""
        self.api_requests += 1
        return self.api_requests

    def limits(self) -> dict[str, Any]:
        return org_limits(self.api_requests)

    def query(self, text: str, batch: int, version: str) -> dict[str, Any]:
        query, sobject = self._parse(text)
        table = self.store.table(sobject.name)
        if query.is_count:
            return {"totalSize": table.count(query), "done": True, "records": []}
        records = [
            {"attributes": _attributes(sobject.name, row["Id"], version), **query.project(row)}
            for row in table.select(query)
        ]
        return self.cursors.first_page(records, batch, version)

    def _parse(self, text: str) -> tuple[Query, SObjectType]:
        try:
            query = parse_soql(text)
            sobject = sobject_named(query.object_name)
            if sobject is None:
                raise SalesforceError(
                    400,
                    "INVALID_TYPE",
                    "sObject type named in FROM is not supported. If you are attempting to use a "
                    "custom object, be sure to append the '__c' after the entity name.",
                )
            query.validate_fields(sobject.field_names, sobject.name)
        except SoqlError as error:
            raise SalesforceError(400, error.error_code, error.message) from None
        return query, sobject

    def get_record(
        self, sobject: SObjectType, record_id: str, fields: Sequence[str] | None, version: str
    ) -> dict[str, Any]:
        record = self.store.table(sobject.name).get(record_id)
        if record is None:
            raise not_found()
        names = sobject.field_names
        if fields is not None:
            unknown = [f for f in fields if sobject.field(f) is None]
            if unknown:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column on sobject of type {sobject.name}: the fields parameter "
                    "names a field this object does not have; see its describe for valid names",
                )
            names = tuple(sobject.field(f).name for f in fields)  # type: ignore[union-attr]
        return record_json(sobject, record, version, names)

    # -- writes ----------------------------------------------------------------------

    # ``origin`` names the ledger operation: "sobject" for the API, "automation" for the
    # writes automation steps make, so a caller counting its own writes is not misled.

    async def create_record(
        self, sobject: SObjectType, body: Any, key: str | None, *, origin: str = "sobject"
    ) -> tuple[StoredResponse, bool]:
        async def apply() -> StoredResponse:
            changes = check_body(sobject, body, creating=True, exists=self.store.exists)
            record = self.store.create(sobject.name, changes)
            triggered = self.on_record_changed(sobject.name, record["Id"], None, dict(record))
            self.ledger.record(
                f"{origin}.create", record["Id"], key, type=sobject.name, fields=changes
            )
            created = {"id": record["Id"], "success": True, "errors": []}
            return StoredResponse(201, created, _automation_headers(triggered))

        return await self.once(key, fingerprint("POST", sobject.name, body), apply)

    async def update_record(
        self,
        sobject: SObjectType,
        record_id: str,
        body: Any,
        key: str | None,
        *,
        origin: str = "sobject",
    ) -> tuple[StoredResponse, bool]:
        async def apply() -> StoredResponse:
            changes = check_body(sobject, body, creating=False, exists=self.store.exists)
            try:
                before, after = self.store.update(sobject.name, record_id, changes)
            except KeyError:
                deleted = self.store.is_deleted(sobject.name, record_id)
                raise (entity_is_deleted() if deleted else not_found()) from None
            triggered = self.on_record_changed(sobject.name, after["Id"], before, after)
            self.ledger.record(
                f"{origin}.update", after["Id"], key, type=sobject.name, fields=changes
            )
            return StoredResponse(204, None, _automation_headers(triggered))

        request = fingerprint("PATCH", sobject.name, record_id, body)
        return await self.once(key, request, apply)

    async def delete_record(
        self, sobject: SObjectType, record_id: str, key: str | None
    ) -> tuple[StoredResponse, bool]:
        """204 once; then 404 ENTITY_IS_DELETED for a second delete, NOT_FOUND on GET."""

        async def apply() -> StoredResponse:
            if self.store.is_deleted(sobject.name, record_id):
                raise entity_is_deleted()
            try:
                record = self.store.delete(sobject.name, record_id)
            except KeyError:
                raise not_found() from None
            self.ledger.record("sobject.delete", record["Id"], key, type=sobject.name)
            return StoredResponse(204, None)

        return await self.once(key, fingerprint("DELETE", sobject.name, record_id), apply)

    @staticmethod
    def automation_headers(triggered: list[str]) -> tuple[tuple[str, str], ...]:
        return _automation_headers(triggered)

    async def once(self, key: str | None, request: str, apply: Any) -> tuple[StoredResponse, bool]:
        """Run ``apply`` under the idempotency key; refusals are stored like successes."""

        async def applying() -> StoredResponse:
            try:
                stored: StoredResponse = await apply()
            except SalesforceError as error:
                return StoredResponse(error.status, error.body())
            return stored

        try:
            return await self.idempotency.run(key, request, applying)
        except IdempotencyMismatch:
            raise SalesforceError(
                400,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used with different parameters",
            ) from None
        except IdempotencyConflict:
            raise SalesforceError(
                409,
                "IDEMPOTENCY_KEY_IN_USE",
                "A request with this Idempotency-Key is still being processed",
            ) from None


def record_url(sobject: str, record_id: str, version: str) -> str:
    return f"/services/data/{version}/sobjects/{sobject}/{record_id}"


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": record_url(sobject, record_id, version)}


def record_json(
    sobject: SObjectType, record: Record, version: str, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """A record as a GET answers it: its attributes, then the fields asked for (or all)."""
    return {
        "attributes": _attributes(sobject.name, record["Id"], version),
        **{name: record.get(name) for name in (sobject.field_names if names is None else names)},
    }


def _automation_headers(triggered: list[str]) -> tuple[tuple[str, str], ...]:
    return ((AUTOMATIONS_HEADER, ",".join(triggered)),) if triggered else ()
