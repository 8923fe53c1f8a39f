"""Turning the shared dataset into Salesforce-shaped records (plain dicts keyed by field).

Stored values are already in the wire format (dates as Salesforce prints them, phones
exactly as the dataset typed them), so a query only filters and projects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mocks.crm.schema import DEFAULT_OWNER_ID

if TYPE_CHECKING:
    from mocks.dataset import Dataset

__all__ = ["Record", "compound_name", "seed_records", "sf_datetime"]

Record = dict[str, Any]


def sf_datetime(moment: datetime) -> str:
    """Salesforce's datetime format, e.g. ``2024-05-01T12:00:00.000+0000``.

    isoformat plus slicing is several times faster than strftime, which matters when
    100k records are seeded on demand.
    """
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    text = moment.isoformat()
    return f"{text[:19]}.{text[20:23] if len(text) > 20 and text[19] == '.' else '000'}+0000"


def compound_name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def seed_records(dataset: Dataset, sobject: str) -> Iterator[Record]:
    """The seeded records of one object; Task and Opportunity start empty."""
    if sobject == "Contact":
        return _contacts(dataset)
    if sobject == "Lead":
        return _leads(dataset)
    if sobject == "Account":
        return _accounts(dataset)
    return iter(())


def _contacts(dataset: Dataset) -> Iterator[Record]:
    for c in dataset.crm_contacts:
        yield {
            "Id": c.id,
            "AccountId": c.account_id,
            "FirstName": c.first_name,
            "LastName": c.last_name,
            "Name": compound_name(c.first_name, c.last_name),
            "Email": c.email,
            "Phone": c.phone,
            "MobilePhone": c.mobile_phone,
            "MailingStreet": c.mailing_street,
            "MailingCity": c.mailing_city,
            "MailingState": c.mailing_state,
            "MailingPostalCode": c.mailing_postal_code,
            "MailingCountry": "United States" if c.mailing_street else None,
            "Title": None,
            "Description": None,
            "LeadSource": c.lead_source,
            "Customer_Id__c": c.customer_id,
            "OwnerId": DEFAULT_OWNER_ID,
            "CreatedDate": sf_datetime(c.created_date),
            "LastModifiedDate": sf_datetime(c.last_modified_date),
        }


def _leads(dataset: Dataset) -> Iterator[Record]:
    for lead in dataset.crm_leads:
        yield {
            "Id": lead.id,
            "FirstName": lead.first_name,
            "LastName": lead.last_name,
            "Name": compound_name(lead.first_name, lead.last_name),
            "Company": lead.company,
            "Title": None,
            "Email": lead.email,
            "Phone": lead.phone,
            "MobilePhone": None,
            "Status": lead.status,
            "LeadSource": lead.lead_source,
            "Rating": None,
            "Description": None,
            "IsConverted": False,
            "Customer_Id__c": lead.customer_id,
            "OwnerId": DEFAULT_OWNER_ID,
            "CreatedDate": sf_datetime(lead.created_date),
            "LastModifiedDate": sf_datetime(lead.last_modified_date),
        }


def _accounts(dataset: Dataset) -> Iterator[Record]:
    for a in dataset.crm_accounts:
        yield {
            "Id": a.id,
            "Name": a.name,
            "Type": a.type,
            "Phone": a.phone,
            "Industry": None,
            "BillingStreet": None,
            "BillingCity": None,
            "BillingState": None,
            "BillingPostalCode": None,
            "Description": None,
            "Customer_Id__c": a.customer_id,
            "OwnerId": DEFAULT_OWNER_ID,
            "CreatedDate": sf_datetime(a.created_date),
            "LastModifiedDate": sf_datetime(a.last_modified_date),
        }
