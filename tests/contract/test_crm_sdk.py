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
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials

pytestmark = pytest.mark.contract
CREDS = MockCredentials()


class PlainHttp(HTTPAdapter):
    """Loopback serves plain HTTP; the SDK has no switch for that."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


@pytest.fixture
def sdk(mocks_url: str) -> Iterator[Salesforce]:
    login = httpx.post(f"{mocks_url}/crm/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": CREDS.crm_client_id,
        "client_secret": CREDS.crm_client_secret,
    })  # fmt: skip
    login.raise_for_status()
    with requests.Session() as session:
        session.mount("https://", PlainHttp())
        yield Salesforce(
            instance=login.json()["instance_url"].removeprefix("http://"),
            session_id=login.json()["access_token"],
            session=session,
            version="59.0",
        )


def sobject(sdk: Salesforce, name: str) -> SFType:
    return cast(SFType, getattr(sdk, name))


def test_query_and_query_all_across_pages(sdk: Salesforce, enterprise: MockEnterprise) -> None:
    dataset: Dataset = enterprise.context.dataset
    contact = dataset.crm_contacts[5]
    hits = sdk.query(f"SELECT Id, Phone FROM Contact WHERE Phone = '{contact.phone}'")
    assert [r["Id"] for r in hits["records"]] == [contact.id]
    batches = {"Sforce-Query-Options": "batchSize=200"}
    first = sdk.query("SELECT Id FROM Contact", headers=batches)
    assert not first["done"] and len(first["records"]) == 200
    every = sdk.query_all("SELECT Id FROM Contact", headers=batches)
    assert sorted(r["Id"] for r in every["records"]) == sorted(c.id for c in dataset.crm_contacts)


def test_create_replay_update_get_describe(sdk: Salesforce) -> None:
    leads = sobject(sdk, "Lead")
    lead = {"LastName": "Lovelace", "Company": "Analytical Engines", "Phone": "415-555-0199"}
    created = leads.create(lead, headers={"Idempotency-Key": "sdk-lead"})
    assert created["success"] and created["id"].startswith("00Q")
    assert leads.create(lead, headers={"Idempotency-Key": "sdk-lead"})["id"] == created["id"]
    assert leads.update(created["id"], {"Status": "Qualified"}) == 204
    assert leads.get(created["id"])["Status"] == "Qualified"
    assert "Phone" in {f["name"] for f in sobject(sdk, "Contact").describe()["fields"]}


def test_the_sdk_raises_its_own_errors_from_salesforce_bodies(sdk: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sobject(sdk, "Lead").create({"FirstName": "Ada"})
    body = cast(list[dict[str, Any]], bad.value.content)  # the parsed Salesforce error list
    assert body[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceResourceNotFound):
        sobject(sdk, "Contact").get("003000000000000AAA")
