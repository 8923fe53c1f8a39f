"""The sObjects the mock CRM serves: their fields, key prefixes and write rules.

One declaration per object drives everything else: SOQL field validation, the write
checks (unknown, read-only and required fields, restricted picklists, references) and
the describe endpoints, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "API_VERSIONS",
    "DEFAULT_OWNER_ID",
    "SOBJECTS",
    "Field",
    "SObjectType",
    "sobject_named",
]

# The integration user every seeded and created record belongs to.
DEFAULT_OWNER_ID = "0058d000004ZsWbAAK"

# (version, release label) newest last, as GET /services/data lists them.
API_VERSIONS: tuple[tuple[str, str], ...] = (
    ("55.0", "Summer '22"),
    ("56.0", "Winter '23"),
    ("57.0", "Spring '23"),
    ("58.0", "Summer '23"),
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # Salesforce's describe type: id, string, phone, email, picklist, date...
    writable: bool = True
    required: bool = False  # on create (nillable=false, no default)
    picklist: tuple[str, ...] = ()  # restricted values; empty means free text
    references: tuple[str, ...] = ()  # sObjects a reference may point at
    default: Any = None  # filled in on create when the body leaves it out
    # An External ID field: records can be read and upserted by its value
    # (``sobjects/<Object>/<Field>/<value>``). Not unique, as Salesforce allows.
    external_id: bool = False


@dataclass(frozen=True)
class SObjectType:
    name: str
    label: str
    key_prefix: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        by_lower = {f.name.lower(): f for f in self.fields}
        object.__setattr__(self, "_by_lower", by_lower)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        """Case-insensitive, as Salesforce field names are."""
        by_lower: dict[str, Field] = self._by_lower  # type: ignore[attr-defined]
        return by_lower.get(name.lower())

    def external_id(self, name: str) -> Field | None:
        """The External ID field of that name, if this object has one."""
        field = self.field(name)
        return field if field is not None and field.external_id else None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def has_compound_name(self) -> bool:
        """Contact and Lead derive Name from FirstName and LastName."""
        name = self.field("Name")
        return name is not None and not name.writable


def _system_fields() -> tuple[Field, ...]:
    return (
        Field("OwnerId", "reference", default=DEFAULT_OWNER_ID, references=("User",)),
        Field("CreatedDate", "datetime", writable=False),
        Field("LastModifiedDate", "datetime", writable=False),
    )


_ID = Field("Id", "id", writable=False)
# The customer number the enterprise's other systems key on, as an External ID.
_CUSTOMER_ID = Field("Customer_Id__c", "string", external_id=True)

CONTACT = SObjectType(
    "Contact",
    "Contact",
    "003",
    (
        _ID,
        Field("AccountId", "reference", references=("Account",)),
        Field("FirstName", "string"),
        Field("LastName", "string", required=True),
        Field("Name", "string", writable=False),
        Field("Email", "email"),
        Field("Phone", "phone"),
        Field("MobilePhone", "phone"),
        Field("MailingStreet", "textarea"),
        Field("MailingCity", "string"),
        Field("MailingState", "string"),
        Field("MailingPostalCode", "string"),
        Field("MailingCountry", "string"),
        Field("Title", "string"),
        Field("Description", "textarea"),
        Field("LeadSource", "picklist"),
        _CUSTOMER_ID,
        *_system_fields(),
    ),
)

LEAD = SObjectType(
    "Lead",
    "Lead",
    "00Q",
    (
        _ID,
        Field("FirstName", "string"),
        Field("LastName", "string", required=True),
        Field("Name", "string", writable=False),
        Field("Company", "string", required=True),
        Field("Title", "string"),
        Field("Email", "email"),
        Field("Phone", "phone"),
        Field("MobilePhone", "phone"),
        Field(
            "Status",
            "picklist",
            default="Open - Not Contacted",
            picklist=(
                "Open - Not Contacted",
                "Working - Contacted",
                "Qualified",
                "Unqualified",
                "Closed - Converted",
                "Closed - Not Converted",
            ),
        ),
        Field("LeadSource", "picklist"),
        Field("Rating", "picklist", picklist=("Hot", "Warm", "Cold")),
        Field("Description", "textarea"),
        Field("IsConverted", "boolean", writable=False, default=False),
        _CUSTOMER_ID,
        *_system_fields(),
    ),
)

ACCOUNT = SObjectType(
    "Account",
    "Account",
    "001",
    (
        _ID,
        Field("Name", "string", required=True),
        Field("Type", "picklist"),
        Field("Phone", "phone"),
        Field("Industry", "picklist"),
        Field("BillingStreet", "textarea"),
        Field("BillingCity", "string"),
        Field("BillingState", "string"),
        Field("BillingPostalCode", "string"),
        Field("Description", "textarea"),
        _CUSTOMER_ID,
        *_system_fields(),
    ),
)

TASK = SObjectType(
    "Task",
    "Task",
    "00T",
    (
        _ID,
        Field("Subject", "combobox", required=True),
        Field(
            "Status",
            "picklist",
            default="Not Started",
            picklist=(
                "Not Started",
                "In Progress",
                "Completed",
                "Waiting on someone else",
                "Deferred",
            ),
        ),
        Field("Priority", "picklist", default="Normal", picklist=("High", "Normal", "Low")),
        Field("WhoId", "reference", references=("Contact", "Lead")),
        Field("WhatId", "reference", references=("Account", "Opportunity")),
        Field("ActivityDate", "date"),
        Field("Description", "textarea"),
        Field("Type", "picklist"),
        Field("TaskSubtype", "picklist", default="Task", picklist=("Task", "Email", "Call")),
        Field("CallType", "picklist", picklist=("Internal", "Inbound", "Outbound")),
        Field("CallDurationInSeconds", "int"),
        Field("CallObject", "string"),
        *_system_fields(),
    ),
)

OPPORTUNITY = SObjectType(
    "Opportunity",
    "Opportunity",
    "006",
    (
        _ID,
        Field("Name", "string", required=True),
        Field("AccountId", "reference", references=("Account",)),
        Field(
            "StageName",
            "picklist",
            required=True,
            picklist=(
                "Prospecting",
                "Qualification",
                "Needs Analysis",
                "Value Proposition",
                "Id. Decision Makers",
                "Perception Analysis",
                "Proposal/Price Quote",
                "Negotiation/Review",
                "Closed Won",
                "Closed Lost",
            ),
        ),
        Field("Amount", "currency"),
        Field("CloseDate", "date", required=True),
        Field("Probability", "percent"),
        Field("Type", "picklist"),
        Field("LeadSource", "picklist"),
        Field("Description", "textarea"),
        *_system_fields(),
    ),
)

SOBJECTS: dict[str, SObjectType] = {t.name: t for t in (CONTACT, LEAD, ACCOUNT, TASK, OPPORTUNITY)}
_BY_LOWER = {name.lower(): t for name, t in SOBJECTS.items()}


def sobject_named(name: str) -> SObjectType | None:
    """Object names are case-insensitive in SOQL and in REST paths."""
    return _BY_LOWER.get(name.lower())
