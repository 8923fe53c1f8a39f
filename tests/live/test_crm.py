"""The mock CRM's data API over real HTTP: SOQL lookups and paging, sObject writes,
idempotency, Salesforce-shaped errors and injected faults."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from app.serving import serve_in_thread
from mocks.chaos import ChaosEngine
from mocks.crm import CrmService
from mocks.crm.seed import Record
from mocks.dataset import PHONE_FORMAT_WEIGHTS, CrmContact, Dataset
from mocks.platform.service import SystemContext
from mocks.registry import MockEnterprise, system_app
from mocks.settings import MockCredentials, MockSettings

CREDS = MockCredentials()
DATA = "/services/data/v59.0"
# Salesforce's datetime format, e.g. 2024-05-01T12:00:00.000+0000
SF_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture(scope="session")
def dataset(enterprise: MockEnterprise) -> Dataset:
    return enterprise.context.dataset


def soql(sf: httpx.Client, text: str, **headers: str) -> httpx.Response:
    return sf.get(f"{DATA}/query", params={"q": text}, headers=headers)


def records(sf: httpx.Client, text: str) -> list[dict[str, Any]]:
    response = soql(sf, text)
    assert response.status_code == 200, response.text
    return list(response.json()["records"])


def errors_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    assert set(body[0]) >= {"message", "errorCode"}
    return dict(body[0])


def ledger(client: httpx.Client, operation: str) -> dict[str, Any]:
    response = client.get("/_mock/crm/ledger", params={"operation": operation})
    response.raise_for_status()
    return dict(response.json())


def lead(**fields: Any) -> dict[str, Any]:
    return {
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Company": "Analytical Engines",
        "Phone": "(415) 555-0199",
        **fields,
    }


# ------------------------------------------------------------------ lookups


def test_phone_lookup_finds_the_contact_in_every_stored_format(
    sf: httpx.Client, dataset: Dataset
) -> None:
    formats = dataset.truth.phone_format_of
    for fmt in PHONE_FORMAT_WEIGHTS:
        contact = next(c for c in dataset.crm_contacts if formats[c.id] == fmt)
        query = "SELECT Id, Phone, Customer_Id__c, Name FROM Contact WHERE Phone = '{}'"
        found = records(sf, query.format(contact.phone))
        assert contact.id in {r["Id"] for r in found}, (fmt, contact.phone)
        for record in found:  # the same person: one customer, the exact stored string
            assert record["Customer_Id__c"] == contact.customer_id
            assert record["Phone"] == contact.phone
            assert record["attributes"] == {
                "type": "Contact",
                "url": f"{DATA}/sobjects/Contact/{record['Id']}",
            }


def test_phone_lookup_is_exact_string_like_salesforce(sf: httpx.Client, dataset: Dataset) -> None:
    formats = dataset.truth.phone_format_of
    contact = next(
        c
        for c in dataset.crm_contacts
        if formats[c.id] == "national"
        and len(dataset.contacts_for_customer(c.customer_id)) == 1
        and c.mobile_phone is None
    )
    customer = dataset.customer_by_id(contact.customer_id)
    assert customer is not None
    assert records(sf, f"SELECT Id FROM Contact WHERE Phone = '{customer.phone_e164}'") == []


def test_duplicate_contacts_come_back_together_with_in(sf: httpx.Client, dataset: Dataset) -> None:
    customer_id, ids = next(
        (cid, ids) for cid, ids in dataset.truth.duplicate_contact_ids.items() if len(ids) == 2
    )
    contacts: list[CrmContact] = [c for c in dataset.crm_contacts if c.id in ids]
    phones = ", ".join(f"'{c.phone}'" for c in contacts)
    found = records(sf, f"SELECT Id, Customer_Id__c FROM Contact WHERE Phone IN ({phones})")
    assert sorted(r["Id"] for r in found) == sorted(ids)
    assert {r["Customer_Id__c"] for r in found} == {customer_id}


def test_lookups_on_other_indexed_and_unindexed_fields(sf: httpx.Client, dataset: Dataset) -> None:
    contact = next(c for c in dataset.crm_contacts if c.email and c.mobile_phone)
    assert contact.email is not None
    by_email = records(sf, f"SELECT Id FROM Contact WHERE Email = '{contact.email.upper()}'")
    assert contact.id in {r["Id"] for r in by_email}  # text = ignores case
    by_customer = records(
        sf,
        f"SELECT Id FROM Contact WHERE Customer_Id__c = '{contact.customer_id}' "
        f"AND LastName = '{contact.last_name}'",
    )
    assert contact.id in {r["Id"] for r in by_customer}
    by_name = records(sf, f"SELECT Id FROM Contact WHERE FirstName = '{contact.first_name}'")
    assert contact.id in {r["Id"] for r in by_name}
    account = records(sf, f"SELECT Id, Name FROM Account WHERE Id = '{contact.account_id}'")
    assert [a["Id"] for a in account] == [contact.account_id]


def test_count_and_limit(sf: httpx.Client, dataset: Dataset) -> None:
    counted = soql(sf, "SELECT COUNT() FROM Contact").json()
    assert counted == {"totalSize": len(dataset.crm_contacts), "done": True, "records": []}
    limited = soql(sf, "SELECT Id FROM Lead ORDER BY LastName LIMIT 7").json()
    assert limited["totalSize"] == 7 and limited["done"] is True


def test_any_api_version_is_served(sf: httpx.Client) -> None:
    query = {"q": "SELECT Name FROM Account LIMIT 1"}
    response = sf.get("/services/data/v52.0/query", params=query)
    assert response.status_code == 200
    record = response.json()["records"][0]
    assert record["attributes"]["url"].startswith("/services/data/v52.0/sobjects/Account/001")
    assert errors_of(sf.get("/services/data/59/query"), 404)["errorCode"] == "NOT_FOUND"


# ------------------------------------------------------------------- paging


def test_paging_in_batches_of_200_returns_every_record_once(
    sf: httpx.Client, dataset: Dataset
) -> None:
    expected = {c.id for c in dataset.crm_contacts}
    assert len(expected) > 400  # at least three pages
    page = soql(sf, "SELECT Id, Phone FROM Contact", **{"Sforce-Query-Options": "batchSize=200"})
    seen: list[str] = []
    pages = 0
    while True:
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        assert body["totalSize"] == len(expected)
        assert len(body["records"]) == min(200, len(expected) - len(seen))
        seen += [r["Id"] for r in body["records"]]
        if body["done"]:
            assert "nextRecordsUrl" not in body
            break
        assert body["nextRecordsUrl"].startswith(f"{DATA}/query/")
        page = sf.get(body["nextRecordsUrl"])
    assert pages == -(-len(expected) // 200)
    assert len(seen) == len(set(seen)) and set(seen) == expected


@pytest.mark.parametrize(("option", "size"), [("batchSize=5", 200), ("batchSize=90000", 2000)])
def test_batch_size_is_clamped_to_salesforce_limits(
    sf: httpx.Client, option: str, size: int
) -> None:
    body = soql(sf, "SELECT Id FROM Contact", **{"Sforce-Query-Options": option}).json()
    assert len(body["records"]) == min(size, body["totalSize"])


def test_bad_batch_size_and_unknown_locator_are_refused(sf: httpx.Client) -> None:
    bad = soql(sf, "SELECT Id FROM Contact", **{"Sforce-Query-Options": "batchSize=lots"})
    assert errors_of(bad, 400)["errorCode"] == "INVALID_QUERY_OPTIONS"
    gone = sf.get(f"{DATA}/query/01gXXXXXXXXXXXXXXX-200")
    assert errors_of(gone, 400)["errorCode"] == "INVALID_QUERY_LOCATOR"


# ------------------------------------------------------------------- writes


def test_create_get_and_update_a_lead(sf: httpx.Client, client: httpx.Client) -> None:
    created = sf.post(f"{DATA}/sobjects/Lead/", json=lead())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["success"] is True and body["errors"] == []
    lead_id = body["id"]
    assert lead_id.startswith("00Q") and len(lead_id) == 18
    fetched = sf.get(f"{DATA}/sobjects/Lead/{lead_id}").json()
    assert fetched["Name"] == "Ada Lovelace"
    assert fetched["Status"] == "Open - Not Contacted"  # the picklist default
    assert SF_DATETIME.match(fetched["CreatedDate"]), fetched["CreatedDate"]
    found = records(sf, "SELECT Id FROM Lead WHERE Phone = '(415) 555-0199'")
    assert [r["Id"] for r in found] == [lead_id]

    updated = sf.patch(
        f"{DATA}/sobjects/Lead/{lead_id}",
        json={"Status": "Qualified", "Phone": "415.555.0100", "LastName": "King"},
    )
    assert updated.status_code == 204 and updated.content == b""
    fetched = sf.get(f"{DATA}/sobjects/Lead/{lead_id}", params={"fields": "Status,Name"}).json()
    assert {k: v for k, v in fetched.items() if k != "attributes"} == {
        "Status": "Qualified",
        "Name": "Ada King",
    }
    # The phone index follows the update.
    assert records(sf, "SELECT Id FROM Lead WHERE Phone = '(415) 555-0199'") == []
    assert [r["Id"] for r in records(sf, "SELECT Id FROM Lead WHERE Phone = '415.555.0100'")] == [
        lead_id
    ]
    entries = ledger(client, "sobject.update")["entries"]
    assert [e["resource"] for e in entries] == [lead_id]
    assert entries[0]["detail"]["type"] == "Lead"
    assert entries[0]["detail"]["fields"]["Status"] == "Qualified"


def test_task_links_to_an_existing_contact(sf: httpx.Client, dataset: Dataset) -> None:
    contact = dataset.crm_contacts[0]
    created = sf.post(
        f"{DATA}/sobjects/Task/",
        json={
            "Subject": "Call",
            "WhoId": contact.id,
            "WhatId": contact.account_id,
            "ActivityDate": "2026-11-02",
            "Status": "Completed",
            "CallDurationInSeconds": 95,
        },
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert task_id.startswith("00T")
    tasks = records(sf, f"SELECT Id, Subject, Priority FROM Task WHERE WhoId = '{contact.id}'")
    assert tasks == [
        {
            "attributes": {"type": "Task", "url": f"{DATA}/sobjects/Task/{task_id}"},
            "Id": task_id,
            "Subject": "Call",
            "Priority": "Normal",
        }
    ]
    missing = sf.post(f"{DATA}/sobjects/Task/", json={"Subject": "x", "WhoId": "003" + "0" * 15})
    assert errors_of(missing, 400)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    account_as_who = {"Subject": "x", "WhoId": contact.account_id}
    wrong_kind = sf.post(f"{DATA}/sobjects/Task/", json=account_as_who)
    assert errors_of(wrong_kind, 400)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_create_replay_with_the_same_key_applies_once(
    sf: httpx.Client, client: httpx.Client
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = sf.post(f"{DATA}/sobjects/Lead/", json=lead(), headers=key)
    again = sf.post(f"{DATA}/sobjects/Lead/", json=lead(), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    applied = ledger(client, "sobject.create")
    assert applied["count"] == 1 and applied["duplicate_keys"] == []
    assert applied["entries"][0]["idempotency_key"] == key["Idempotency-Key"]
    assert (
        soql(sf, "SELECT COUNT() FROM Lead WHERE Company = 'Analytical Engines'").json()[
            "totalSize"
        ]
        == 1
    )
    reused = sf.post(f"{DATA}/sobjects/Lead/", json=lead(LastName="Other"), headers=key)
    assert errors_of(reused, 400)["errorCode"] == "IDEMPOTENCY_KEY_REUSED"


def test_update_replay_with_the_same_key_applies_once(
    sf: httpx.Client, client: httpx.Client, dataset: Dataset
) -> None:
    contact_id = dataset.crm_contacts[1].id
    key = {"Idempotency-Key": "update-once"}
    for _ in range(3):
        response = sf.patch(
            f"{DATA}/sobjects/Contact/{contact_id}", json={"Title": "VP"}, headers=key
        )
        assert response.status_code == 204
    assert ledger(client, "sobject.update")["count"] == 1


def test_each_object_gets_its_key_prefix(sf: httpx.Client, dataset: Dataset) -> None:
    bodies = {
        "Contact": ("003", {"LastName": "Hopper", "AccountId": dataset.crm_accounts[0].id}),
        "Account": ("001", {"Name": "Hopper Household", "Type": "Household"}),
        "Opportunity": (
            "006",
            {"Name": "Card", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 1500},
        ),
    }
    for sobject, (prefix, body) in bodies.items():
        created = sf.post(f"{DATA}/sobjects/{sobject}/", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["id"].startswith(prefix)


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("query", "code", "says"),
    [
        ("SELEC Id FROM Contact", "MALFORMED_QUERY", "ERROR at Row:1"),
        ("SELECT Id FROM Contact WHERE Phone = '1' OR Email = 'x'", "MALFORMED_QUERY", "OR"),
        # Salesforce quotes the unknown name; the mock says where it is instead (no echo).
        ("SELECT Id, Shoe_Size__c FROM Contact", "INVALID_FIELD", "No such column on entity"),
        ("SELECT Id FROM Foo", "INVALID_TYPE", "sObject type named in FROM is not supported"),
    ],
)
def test_bad_soql_is_refused_with_salesforce_codes(
    sf: httpx.Client, query: str, code: str, says: str
) -> None:
    error = errors_of(soql(sf, query), 400)
    assert error["errorCode"] == code
    assert says in error["message"]


def test_query_without_q(sf: httpx.Client) -> None:
    assert errors_of(sf.get(f"{DATA}/query"), 400)["errorCode"] == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("sobject", "body", "code", "fields", "says"),
    [
        (
            "Lead",
            lead(Foo="bar"),
            "INVALID_FIELD",
            None,
            "No such column on sobject of type Lead",
        ),
        (
            "Lead",
            {"FirstName": "Ada"},
            "REQUIRED_FIELD_MISSING",
            ["LastName", "Company"],
            "Required fields are missing: [LastName, Company]",
        ),
        ("Contact", {"FirstName": "Ada"}, "REQUIRED_FIELD_MISSING", ["LastName"], "LastName"),
        ("Task", {"Status": "Completed"}, "REQUIRED_FIELD_MISSING", ["Subject"], "Subject"),
        ("Account", {"Type": "Household"}, "REQUIRED_FIELD_MISSING", ["Name"], "Name"),
        (
            "Opportunity",
            {"Amount": 5},
            "REQUIRED_FIELD_MISSING",
            ["Name", "StageName", "CloseDate"],
            "CloseDate",
        ),
        ("Lead", lead(Name="Ada L"), "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"], "Name"),
        (
            "Lead",
            lead(Status="Hot lead"),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["Status"],
            "Status: bad value for restricted picklist field",
        ),
        ("Lead", lead(Email="not-an-email"), "INVALID_EMAIL_ADDRESS", ["Email"], "Email: invalid"),
        (
            "Task",
            {"Subject": "x", "ActivityDate": "tomorrow"},
            "JSON_PARSER_ERROR",
            ["ActivityDate"],
            "ActivityDate",
        ),
        ("Lead", [lead()], "JSON_PARSER_ERROR", None, "JSON object"),
    ],
)
def test_bad_writes_are_refused_naming_the_fields(
    sf: httpx.Client,
    client: httpx.Client,
    sobject: str,
    body: Any,
    code: str,
    fields: list[str] | None,
    says: str,
) -> None:
    error = errors_of(sf.post(f"{DATA}/sobjects/{sobject}/", json=body), 400)
    assert error["errorCode"] == code
    assert says in error["message"]
    assert error.get("fields") == fields
    assert ledger(client, "sobject.create")["count"] == 0


def test_bad_json_and_unknown_records(sf: httpx.Client) -> None:
    json_type = {"Content-Type": "application/json"}
    broken = sf.post(f"{DATA}/sobjects/Lead/", content=b"{oops", headers=json_type)
    assert errors_of(broken, 400)["errorCode"] == "JSON_PARSER_ERROR"
    not_found = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    for response in (
        sf.get(f"{DATA}/sobjects/Contact/003000000000000AAA"),
        sf.patch(f"{DATA}/sobjects/Contact/003000000000000AAA", json={"Title": "x"}),
        sf.get(f"{DATA}/sobjects/Foo/003000000000000AAA"),
        sf.post(f"{DATA}/sobjects/Foo/", json={}),
        sf.get("/services/data/v59.0/nothing-here"),
    ):
        assert response.status_code == 404
        assert response.json() == not_found


def test_get_with_an_unknown_field_list(sf: httpx.Client, dataset: Dataset) -> None:
    contact_id = dataset.crm_contacts[0].id
    response = sf.get(f"{DATA}/sobjects/Contact/{contact_id}", params={"fields": "Id,Shoe__c"})
    assert errors_of(response, 400)["errorCode"] == "INVALID_FIELD"


def test_a_15_char_id_reaches_the_record(sf: httpx.Client, dataset: Dataset) -> None:
    contact = dataset.crm_contacts[0]
    response = sf.get(f"{DATA}/sobjects/Contact/{contact.id[:15]}")
    assert response.status_code == 200 and response.json()["Id"] == contact.id


# -------------------------------------------------------------- faults, hooks


def test_injected_fault_uses_the_salesforce_error_shape(
    sf: httpx.Client, control: httpx.Client
) -> None:
    response = control.put("/_chaos/systems/crm", json={"errors": {"rate": 1, "kinds": {"503": 1}}})
    assert response.status_code == 200, response.text
    faulted = soql(sf, "SELECT Id FROM Contact LIMIT 1")
    assert faulted.headers["x-injected-fault"] == "503"
    assert errors_of(faulted, 503)["errorCode"] == "SERVER_UNAVAILABLE"
    control.put("/_chaos/systems/crm", json={"errors": {"rate": 1, "kinds": {"429": 1}}})
    limited = errors_of(soql(sf, "SELECT Id FROM Contact"), 429)
    assert limited["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


class _AutomatedCrm(CrmService):
    """A CRM whose automation engine fires on every Lead change (stands in for the engine)."""

    def on_record_changed(
        self, obj_type: str, record_id: str, before: Record | None, after: Record
    ) -> list[str]:
        if obj_type != "Lead":
            return []
        return ["lead_created"] if before is None else ["lead_status_changed"]


def test_triggered_automations_are_named_in_a_response_header(
    mock_settings: MockSettings, dataset: Dataset
) -> None:
    context = SystemContext(settings=mock_settings, dataset=dataset, chaos=ChaosEngine(("crm",)))
    app = system_app(_AutomatedCrm(context))
    server = serve_in_thread(app)  # the router alone: no gateway, so no login needed
    try:
        with httpx.Client(base_url=server.url, timeout=10.0) as http:
            created = http.post(f"{DATA}/sobjects/Lead/", json=lead())
            assert created.headers["x-switchboard-automations"] == "lead_created"
            lead_id = created.json()["id"]
            updated = http.patch(f"{DATA}/sobjects/Lead/{lead_id}", json={"Status": "Qualified"})
            assert updated.status_code == 204
            assert updated.headers["x-switchboard-automations"] == "lead_status_changed"
            task = http.post(f"{DATA}/sobjects/Task/", json={"Subject": "Call"})
            assert "x-switchboard-automations" not in task.headers
    finally:
        server.stop()


def test_reset_brings_back_the_seeded_records(
    sf: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    contact = dataset.crm_contacts[2]
    created = sf.post(f"{DATA}/sobjects/Lead/", json=lead()).json()["id"]
    changed = sf.patch(f"{DATA}/sobjects/Contact/{contact.id}", json={"Phone": "+15550001111"})
    assert changed.status_code == 204
    control.post("/_mock/crm/reset").raise_for_status()
    assert sf.get(f"{DATA}/sobjects/Lead/{created}").status_code == 404
    restored = records(sf, f"SELECT Id, Phone FROM Contact WHERE Phone = '{contact.phone}'")
    assert [(r["Id"], r["Phone"]) for r in restored] == [(contact.id, contact.phone)]
    assert records(sf, "SELECT Id FROM Contact WHERE Phone = '+15550001111'") == []
