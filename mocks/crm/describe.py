"""Metadata resources: API versions, the version's resources, describeGlobal and describe.

Trimmed to the keys integrations read (names, types, createable/updateable, nillable,
picklist values, reference targets); real describes carry dozens more per field.
"""

from __future__ import annotations

from typing import Any

from mocks.crm.schema import API_VERSIONS, SOBJECTS, Field, SObjectType

__all__ = [
    "describe_global",
    "describe_sobject",
    "sobject_summary",
    "version_resources",
    "versions",
]


def versions() -> list[dict[str, str]]:
    return [
        {"label": label, "url": f"/services/data/v{number}", "version": number}
        for number, label in API_VERSIONS
    ]


def version_resources(version: str) -> dict[str, str]:
    base = f"/services/data/{version}"
    return {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits")}


def _urls(sobject: SObjectType, version: str) -> dict[str, str]:
    base = f"/services/data/{version}/sobjects/{sobject.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def sobject_summary(sobject: SObjectType, version: str) -> dict[str, Any]:
    return {
        "name": sobject.name,
        "label": sobject.label,
        "labelPlural": f"{sobject.label}s" if sobject.name != "Opportunity" else "Opportunities",
        "keyPrefix": sobject.key_prefix,
        "custom": False,
        "queryable": True,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "retrieveable": True,
        "searchable": False,
        "urls": _urls(sobject, version),
    }


def describe_global(version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [sobject_summary(s, version) for s in SOBJECTS.values()],
    }


def _field(field: Field) -> dict[str, Any]:
    return {
        "name": field.name,
        "label": field.name.removesuffix("__c").replace("_", " "),
        "type": field.type,
        "custom": field.name.endswith("__c"),
        "createable": field.writable,
        "updateable": field.writable,
        "nillable": not field.required and field.type not in ("id", "boolean"),
        "externalId": field.external_id,
        "idLookup": field.external_id or field.type == "id",
        "unique": field.type == "id",
        "caseSensitive": False,
        "defaultedOnCreate": field.default is not None or not field.writable,
        "restrictedPicklist": bool(field.picklist),
        "picklistValues": [
            {"value": v, "label": v, "active": True, "defaultValue": v == field.default}
            for v in field.picklist
        ],
        "referenceTo": list(field.references),
    }


def describe_sobject(sobject: SObjectType, version: str) -> dict[str, Any]:
    return {**sobject_summary(sobject, version), "fields": [_field(f) for f in sobject.fields]}
