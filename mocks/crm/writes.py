"""Checking a create/update body the way Salesforce does, field by field.

The result is a dict of canonical field names to stored values, or a ``SalesforceError``
with the errorCode and message Salesforce would send (naming the offending fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from mocks.crm._ids import to_18
from mocks.crm.errors import SalesforceError
from mocks.crm.schema import SOBJECTS, Field, SObjectType

__all__ = ["check_body"]

_TEXT_TYPES = frozenset({"string", "phone", "email", "textarea", "picklist", "combobox"})
_NUMBER_TYPES = frozenset({"currency", "percent", "double"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")

Exists = Callable[[str, str], bool]  # (sObject name, record id) -> whether it is there


def check_body(
    sobject: SObjectType, body: Any, *, creating: bool, exists: Exists
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SalesforceError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {sobject.name} from a JSON {type(body).__name__}: "
            "the body must be a JSON object of field values",
        )
    changes: dict[str, Any] = {}
    read_only: list[str] = []
    for key, value in body.items():
        if key == "attributes":  # clients echo {"type": ...} back; Salesforce ignores it
            continue
        field = sobject.field(key)
        if field is None:
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"No such column on sobject of type {sobject.name}: the body names a field this "
                "object does not have; see its describe for valid names",
            )
        if not field.writable:
            read_only.append(field.name)
            continue
        changes[field.name] = _coerce(field, value, exists)
    if read_only:
        raise SalesforceError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(read_only)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            read_only,
        )
    if creating:
        for field in sobject.fields:
            if field.writable and field.default is not None and field.name not in changes:
                changes[field.name] = field.default
        missing = [name for name in sobject.required if changes.get(name) is None]
    else:
        missing = [name for name in sobject.required if name in changes and changes[name] is None]
    if missing:
        raise SalesforceError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )
    return changes


def _coerce(field: Field, value: Any, exists: Exists) -> Any:
    if value is None or value == "":
        return None  # Salesforce stores an empty string as null
    if field.type in _TEXT_TYPES:
        return _text(field, value)
    if field.type == "date":
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise _unparsable(field, "date (YYYY-MM-DD)")
    if field.type in _NUMBER_TYPES or field.type == "int":
        return _number(field, value)
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        raise _unparsable(field, "boolean")
    if field.type == "reference":
        return _reference(field, value, exists)
    return value


def _text(field: Field, value: Any) -> str:
    if isinstance(value, dict | list):
        raise _unparsable(field, "string")
    if isinstance(value, bool):  # JSON true stored in a text field reads back as "true"
        text = "true" if value else "false"
    else:
        text = value if isinstance(value, str) else str(value)
    if field.type == "email" and not _EMAIL.match(text):
        raise SalesforceError(
            400,
            "INVALID_EMAIL_ADDRESS",
            f"{field.name}: invalid email address",
            [field.name],
        )
    if field.picklist and text not in field.picklist:
        raise SalesforceError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.name}: bad value for restricted picklist field; allowed values: "
            f"{', '.join(field.picklist)}",
            [field.name],
        )
    return text


def _number(field: Field, value: Any) -> int | float:
    number: int | float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None:
        raise _unparsable(field, "number")
    if field.type == "int":
        if number != int(number):
            raise _unparsable(field, "whole number")
        return int(number)
    return float(number)


def _reference(field: Field, value: Any, exists: Exists) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise SalesforceError(
            400, "MALFORMED_ID", f"{field.name}: id value of incorrect type", [field.name]
        )
    record_id = to_18(value)
    targets = [SOBJECTS[name] for name in field.references if name in SOBJECTS]
    if not targets:  # e.g. OwnerId -> User: no User table here, the shape is enough
        return record_id
    target = next((t for t in targets if record_id.startswith(t.key_prefix)), None)
    if target is None:
        raise SalesforceError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            f"{field.name}: id value of incorrect type: it is not the id of a "
            f"{' or '.join(t.name for t in targets)}",
            [field.name],
        )
    if not exists(target.name, record_id):
        raise SalesforceError(
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            f"invalid cross reference id: {field.name} names a record that does not exist",
            [field.name],
        )
    return record_id


def _unparsable(field: Field, expected: str) -> SalesforceError:
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {expected} from the value of field '{field.name}' or "
        "request may be missing a required field",
        [field.name],
    )
