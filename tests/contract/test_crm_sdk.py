"""simple-salesforce, the most used Python SDK for Salesforce, driving the mock CRM.

The SDK always builds ``https://{instance}/services/data/...`` URLs, so it is given
``instance="<host:port>/crm"`` (the token's instance_url without its scheme), a session
from the token endpoint, and a requests session that sends https URLs as plain http.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from simple_salesforce import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from tests.contract._adapters import plain_http_session
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
CREDS = MockCredentials()


@pytest.fixture
def sdk(mocks_url: str) -> Iterator[Salesforce]:
    login = httpx.post(
        f"{mocks_url}/crm/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CREDS.crm_client_id,
            "client_secret": CREDS.crm_client_secret,
        },
    )
    login.raise_for_status()
    with plain_http_session() as session:
        yield Salesforce(
            instance=login.json()["instance_url"].removeprefix("http://"),
            session_id=login.json()["access_token"],
            session=session,
            version="59.0",
        )


def sobject(sdk: Salesforce, name: str) -> SFType:
    return cast(SFType, getattr(sdk, name))


def api_writes(ledger: LedgerReader) -> list[tuple[str, str, str | None]]:
    """The ledger's API writes; automation steps a write triggers are recorded apart."""
    return [
        (e["operation"], e["resource"], e["idempotency_key"])
        for e in ledger("crm")["entries"]
        if e["operation"].startswith("sobject.")
    ]


def test_query_and_query_all_across_pages(
    sdk: Salesforce, enterprise: MockEnterprise, ledger: LedgerReader
) -> None:
    dataset: Dataset = enterprise.context.dataset
    contact = dataset.crm_contacts[5]
    hits = sdk.query(f"SELECT Id, Phone FROM Contact WHERE Phone = '{contact.phone}'")
    assert [r["Id"] for r in hits["records"]] == [contact.id]
    batches = {"Sforce-Query-Options": "batchSize=200"}
    first = sdk.query("SELECT Id FROM Contact", headers=batches)
    assert not first["done"] and len(first["records"]) == 200
    every = sdk.query_all("SELECT Id FROM Contact", headers=batches)
    assert sorted(r["Id"] for r in every["records"]) == sorted(c.id for c in dataset.crm_contacts)
    assert api_writes(ledger) == []  # a query is not an effect


def test_lead_create_and_update_apply_once_despite_retries(
    sdk: Salesforce, ledger: LedgerReader
) -> None:
    leads = sobject(sdk, "Lead")
    lead = {"LastName": "Lovelace", "Company": "Analytical Engines", "Phone": "415-555-0199"}
    created = leads.create(lead, headers={"Idempotency-Key": "sdk-lead"})
    assert created["success"] and created["id"].startswith("00Q")
    assert leads.create(lead, headers={"Idempotency-Key": "sdk-lead"})["id"] == created["id"]
    qualify = {"Idempotency-Key": "sdk-lead-qualify"}
    assert leads.update(created["id"], {"Status": "Qualified"}, headers=qualify) == 204
    assert leads.update(created["id"], {"Status": "Qualified"}, headers=qualify) == 204
    assert api_writes(ledger) == [
        ("sobject.create", created["id"], "sdk-lead"),
        ("sobject.update", created["id"], "sdk-lead-qualify"),
    ]
    assert leads.get(created["id"])["Status"] == "Qualified"
    found = sdk.query("SELECT Id, Status FROM Lead WHERE LastName = 'Lovelace'")
    assert [(r["Id"], r["Status"]) for r in found["records"]] == [(created["id"], "Qualified")]
    assert "Phone" in {f["name"] for f in sobject(sdk, "Contact").describe()["fields"]}


def test_the_sdk_raises_its_own_errors_from_salesforce_bodies(
    sdk: Salesforce, ledger: LedgerReader
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sobject(sdk, "Lead").create({"FirstName": "Ada"})
    body = cast(list[dict[str, Any]], bad.value.content)  # the parsed Salesforce error list
    assert body[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceResourceNotFound):
        sobject(sdk, "Contact").get("003000000000000AAA")
    assert api_writes(ledger) == []


def test_metadata_describe_and_limits_answer_the_sdks_slashed_urls(sdk: Salesforce) -> None:
    contacts = sobject(sdk, "Contact")
    assert contacts.metadata()["objectDescribe"]["name"] == "Contact"  # GET sobjects/Contact/
    fields = {f["name"]: f for f in contacts.describe()["fields"]}
    assert fields["Customer_Id__c"]["externalId"] and fields["Id"]["idLookup"]
    described = sdk.describe()
    assert described is not None and "Lead" in {s["name"] for s in described["sobjects"]}
    limits = sdk.limits()  # GET limits/
    daily = limits["DailyApiRequests"]
    assert daily["Max"] > daily["Remaining"] > 0
    # Every answer says where the org stands; the SDK parses it into api_usage.
    assert sdk.api_usage["api-usage"].used == daily["Max"] - daily["Remaining"]


def test_a_deleted_lead_is_gone_and_a_second_delete_says_so(
    sdk: Salesforce, ledger: LedgerReader
) -> None:
    leads = sobject(sdk, "Lead")
    lead_id = leads.create({"LastName": "Byron", "Company": "Difference Engines"})["id"]
    key = {"Idempotency-Key": "sdk-lead-delete"}
    assert leads.delete(lead_id, headers=key) == 204
    assert leads.delete(lead_id, headers=key) == 204  # a retry replays the answer
    with pytest.raises(SalesforceResourceNotFound):
        leads.get(lead_id)
    with pytest.raises(SalesforceResourceNotFound) as again:
        leads.delete(lead_id)
    body = cast(list[dict[str, Any]], again.value.content)
    assert body[0]["errorCode"] == "ENTITY_IS_DELETED"
    assert sdk.query(f"SELECT Id FROM Lead WHERE Id = '{lead_id}'")["records"] == []
    assert [(op, key) for op, _, key in api_writes(ledger)][-1] == (
        "sobject.delete",
        "sdk-lead-delete",
    )


def test_records_by_external_id_read_and_upsert(
    sdk: Salesforce, enterprise: MockEnterprise, ledger: LedgerReader
) -> None:
    dataset: Dataset = enterprise.context.dataset
    accounts = sobject(sdk, "Account")
    account = dataset.crm_accounts[3]
    found = accounts.get_by_custom_id("Customer_Id__c", account.customer_id)
    assert found["Id"] == account.id
    # Upsert: no match creates (201), one match updates (200 with created=false since v46).
    created = accounts.upsert(
        "Customer_Id__c/C9999001", {"Name": "Babbage & Co"}, raw_response=True
    )
    assert created.status_code == 201 and created.json()["created"] is True
    updated = accounts.upsert(
        "Customer_Id__c/C9999001",
        {"Type": "Customer"},
        raw_response=True,
        headers={"Idempotency-Key": "sdk-upsert-1"},
    )
    assert updated.status_code == 200 and updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert accounts.get_by_custom_id("Customer_Id__c", "c9999001")["Type"] == "Customer"
    upserts = [e for e in ledger("crm")["entries"] if e["operation"] == "sobject.upsert"]
    assert [e["detail"]["created"] for e in upserts] == [True, False]


def test_an_external_id_matching_several_records_is_300_and_writes_nothing(
    sdk: Salesforce, enterprise: MockEnterprise, ledger: LedgerReader
) -> None:
    dataset: Dataset = enterprise.context.dataset
    by_customer: dict[str, list[str]] = {}
    for contact in dataset.crm_contacts:
        by_customer.setdefault(contact.customer_id, []).append(contact.id)
    customer, ids = next((c, ids) for c, ids in by_customer.items() if len(ids) > 1)
    contacts = sobject(sdk, "Contact")
    with pytest.raises(SalesforceMoreThanOneRecord) as several:
        contacts.upsert(f"Customer_Id__c/{customer}", {"Title": "Duplicate?"})
    urls = cast(list[str], several.value.content)
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == sorted(ids)
    with pytest.raises(SalesforceMoreThanOneRecord):
        contacts.get_by_custom_id("Customer_Id__c", customer)
    with pytest.raises(SalesforceResourceNotFound):
        contacts.get_by_custom_id("LastName", "Lovelace")  # not an External ID field
    assert api_writes(ledger) == []
