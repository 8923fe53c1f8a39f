"""Reading and upserting records by an External ID field: ``sobjects/<Object>/<Field>/<value>``.

    GET    one match: the record · none: 404 NOT_FOUND · several: 300 and their URLs
    PATCH  none: create (201, created=true) · one: update (200 with created=false from
           API v46.0, 204 before) · several: 300 and their URLs, nothing written

The value is matched as SOQL ``=`` matches (case-insensitive). A field that is not an
External ID of the object answers 404, as Salesforce does. The upsert runs under the
request's ``Idempotency-Key`` like every other write, and records ``sobject.upsert``.
"""

from __future__ import annotations

from typing import Any

from mocks.crm.errors import MultipleChoices, no_external_id_field, not_found
from mocks.crm.schema import Field, SObjectType
from mocks.crm.seed import Record
from mocks.crm.service import CrmService, record_json, record_url
from mocks.crm.writes import check_body
from mocks.platform.idempotency import StoredResponse, fingerprint

__all__ = ["external_id_field", "read_by_external_id", "upsert_by_external_id"]

_UPDATE_ANSWERS_WITH_A_BODY = 46.0  # the first API version whose upsert-update says 200


def external_id_field(sobject: SObjectType, name: str) -> Field:
    field = sobject.external_id(name)
    if field is None:
        raise no_external_id_field()
    return field


def _matches(crm: CrmService, sobject: SObjectType, field: Field, value: str) -> list[Record]:
    return crm.store.table(sobject.name).find(field.name, value)


def _only(records: list[Record], sobject: SObjectType, version: str) -> Record | None:
    if len(records) > 1:
        raise MultipleChoices([record_url(sobject.name, r["Id"], version) for r in records])
    return records[0] if records else None


def read_by_external_id(
    crm: CrmService, sobject: SObjectType, field_name: str, value: str, version: str
) -> dict[str, Any]:
    field = external_id_field(sobject, field_name)
    record = _only(_matches(crm, sobject, field, value), sobject, version)
    if record is None:
        raise not_found()
    return record_json(sobject, record, version)


async def upsert_by_external_id(
    crm: CrmService,
    sobject: SObjectType,
    field_name: str,
    value: str,
    body: Any,
    key: str | None,
    version: str,
) -> tuple[StoredResponse, bool]:
    field = external_id_field(sobject, field_name)

    async def apply() -> StoredResponse:
        found = _only(_matches(crm, sobject, field, value), sobject, version)
        if found is None:
            # The URL's value is the new record's External ID, whatever the body says.
            given = {**body, field.name: value} if isinstance(body, dict) else body
            changes = check_body(sobject, given, creating=True, exists=crm.store.exists)
            record = crm.store.create(sobject.name, changes)
            triggered = crm.on_record_changed(sobject.name, record["Id"], None, dict(record))
            status, record_id, created = 201, record["Id"], True
        else:
            changes = check_body(sobject, body, creating=False, exists=crm.store.exists)
            before, after = crm.store.update(sobject.name, found["Id"], changes)
            triggered = crm.on_record_changed(sobject.name, after["Id"], before, after)
            status, record_id, created = 200, after["Id"], False
        crm.ledger.record(
            "sobject.upsert",
            record_id,
            key,
            type=sobject.name,
            created=created,
            external_id_field=field.name,
            fields=changes,
        )
        headers = crm.automation_headers(triggered)
        if not created and float(version[1:]) < _UPDATE_ANSWERS_WITH_A_BODY:
            return StoredResponse(204, None, headers)
        answer = {"id": record_id, "success": True, "errors": [], "created": created}
        return StoredResponse(status, answer, headers)

    request = fingerprint("PATCH", sobject.name, field.name, value, body)
    return await crm.once(key, request, apply)
