"""The document store over loopback, in DynamoDB's wire format: targets, SigV4 presence,
AWS's error body, expressions, paging, and the seeded preferences of the dataset's callers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.registry import MockEnterprise
from tests.live.test_mock_no_server_errors import SIGV4

TABLE = "caller_preferences"


@pytest.fixture
def dynamo(mocks_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mocks_url}/docstore", headers=SIGV4, timeout=10) as http:
        yield http


def call(dynamo: httpx.Client, operation: str, **body: Any) -> httpx.Response:
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
    }
    return dynamo.post("/", json=body, headers=headers)


def error_code(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    return str(response.json()["__type"]).split("#")[1]


def test_every_dataset_caller_has_a_profile(
    dynamo: httpx.Client, enterprise: MockEnterprise
) -> None:
    for customer in enterprise.context.dataset.customers[:25]:
        key = {"customer_id": {"S": customer.customer_id}, "pref": {"S": "profile"}}
        item = call(dynamo, "GetItem", TableName=TABLE, Key=key).json()["Item"]
        assert item["phone"]["S"] == customer.phone_e164
        assert item["preferred_channel"]["S"] == customer.preferred_channel


def test_a_query_pages_with_last_evaluated_key(dynamo: httpx.Client) -> None:
    condition = {"KeyConditionExpression": "customer_id = :c", "TableName": TABLE}
    values = {":c": {"S": "C0000002"}}
    whole = call(dynamo, "Query", ExpressionAttributeValues=values, **condition).json()
    seen, start = [], None
    while True:
        page = call(
            dynamo,
            "Query",
            ExpressionAttributeValues=values,
            Limit=1,
            **condition,
            **({"ExclusiveStartKey": start} if start else {}),
        ).json()
        seen += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert seen == whole["Items"] and whole["Count"] >= 1


def test_updates_count_and_conditions_guard(
    dynamo: httpx.Client, control: httpx.Client, enterprise: MockEnterprise
) -> None:
    profiles = (
        item
        for c in enterprise.context.dataset.customers
        for item in control.get(f"/_mock/docstore/preferences/{c.customer_id}").json()["items"]
        if item["pref"] == {"S": "profile"}
    )
    before = next(p for p in profiles if "quiet_hours" in p and "language" in p)
    key = {"customer_id": before["customer_id"], "pref": {"S": "profile"}}
    bump = {
        "TableName": TABLE,
        "Key": key,
        "UpdateExpression": "SET version = version + :one, quiet_hours.#s = :late REMOVE language",
        "ConditionExpression": "attribute_exists(customer_id)",
        "ExpressionAttributeNames": {"#s": "start"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":late": {"S": "23:00"}},
        "ReturnValues": "ALL_NEW",
    }
    answer = call(dynamo, "UpdateItem", **bump)
    assert answer.status_code == 200, answer.text
    after = answer.json()["Attributes"]
    assert after["version"]["N"] == str(int(before["version"]["N"]) + 1)
    assert after["quiet_hours"]["M"]["start"] == {"S": "23:00"} and "language" not in after
    ghost = {**bump, "Key": {"customer_id": {"S": "C9999999"}, "pref": {"S": "profile"}}}
    assert error_code(call(dynamo, "UpdateItem", **ghost)) == "ConditionalCheckFailedException"
    assert control.get("/_mock/docstore/ledger").json()["count"] == 1


def test_refusals_are_aws_shaped_and_never_echo(mocks_url: str, dynamo: httpx.Client) -> None:
    unsigned = httpx.post(f"{mocks_url}/docstore/", headers={"X-Amz-Target": "x"}, content=b"{}")
    assert unsigned.status_code == 400
    assert error_code(unsigned) == "MissingAuthenticationTokenException"
    assert error_code(dynamo.post("/", headers={"X-Amz-Target": "zq7"}, content=b"{}")) == (
        "UnknownOperationException"
    )
    for body in (
        {"TableName": TABLE, "Key": {"customer_id": {"S": "zq7"}}},
        {"TableName": "zq7-table", "Key": {}},
        {"TableName": TABLE, "Key": {"customer_id": {"S": "a"}, "pref": {"N": "zq7"}}},
    ):
        refused = call(dynamo, "GetItem", **body)
        assert refused.status_code == 400 and "zq7" not in refused.text
    unused = call(
        dynamo,
        "Query",
        TableName=TABLE,
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": "C0000001"}, ":zq7": {"S": "x"}},
    )
    assert error_code(unused) == "ValidationException" and "zq7" not in unused.text
    broken = call(dynamo, "Query", TableName=TABLE, KeyConditionExpression="zq7 = = (")
    assert error_code(broken) == "ValidationException" and "zq7" not in broken.text


def test_an_injected_outage_is_dynamodbs_503(dynamo: httpx.Client, control: httpx.Client) -> None:
    control.post("/_chaos/systems/docstore/outage", json={"seconds": 60}).raise_for_status()
    down = call(dynamo, "ListTables")
    assert down.status_code == 503 and down.headers["x-injected-fault"] == "outage"
    assert error_code(down) == "ServiceUnavailableException"
