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
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

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
