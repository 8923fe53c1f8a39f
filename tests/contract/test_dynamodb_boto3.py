"""boto3's DynamoDB client against the document store.

``boto3.client("dynamodb", endpoint_url="<mocks>/docstore/", region_name="us-east-1",
aws_access_key_id="switchboard", aws_secret_access_key="switchboard")``: botocore signs
with SigV4 as always; the mock wants the signature's headers and checks nothing more, so
any fake key works. Throttles are retried by botocore itself; ``retries={"max_attempts":
1}`` shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from mocks.registry import MockEnterprise
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
TABLE = "caller_preferences"
ONCE = Config(retries={"max_attempts": 1, "mode": "standard"})


def dynamodb(mocks_url: str, kind: str = "client") -> Any:
    options = {
        "endpoint_url": f"{mocks_url}/docstore/",
        "region_name": "us-east-1",
        "aws_access_key_id": "switchboard",
        "aws_secret_access_key": "switchboard",
        "config": ONCE,
    }
    return (
        boto3.client("dynamodb", **options)
        if kind == "client"
        else boto3.resource("dynamodb", **options)
    )


@pytest.fixture
def client(mocks_url: str) -> Iterator[Any]:
    made = dynamodb(mocks_url)
    yield made
    made.close()


def test_the_sdk_reads_a_callers_preferences(client: Any, enterprise: MockEnterprise) -> None:
    caller = enterprise.context.dataset.customers[0]
    assert client.list_tables()["TableNames"] == [TABLE]
    described = client.describe_table(TableName=TABLE)["Table"]
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["customer_id", "pref"]
    key = {"customer_id": {"S": caller.customer_id}, "pref": {"S": "profile"}}
    profile = client.get_item(TableName=TABLE, Key=key)["Item"]
    assert profile["phone"] == {"S": caller.phone_e164}
    by_phone = client.query(
        TableName=TABLE,
        IndexName="by_phone",
        KeyConditionExpression="phone = :p",
        ExpressionAttributeValues={":p": {"S": caller.phone_e164}},
    )
    assert [i["customer_id"]["S"] for i in by_phone["Items"]] == [caller.customer_id]
    channels = client.query(
        TableName=TABLE,
        KeyConditionExpression="customer_id = :c AND begins_with(#p, :prefix)",
        ExpressionAttributeNames={"#p": "pref"},
        ExpressionAttributeValues={":c": {"S": caller.customer_id}, ":prefix": {"S": "channel#"}},
    )
    assert channels["Count"] >= 1
    assert all(i["pref"]["S"].startswith("channel#") for i in channels["Items"])


def test_the_resource_api_writes_conditionally(mocks_url: str, ledger: LedgerReader) -> None:
    table = dynamodb(mocks_url, "resource").Table(TABLE)
    item = {"customer_id": "C9999001", "pref": "profile", "language": "es-US", "version": 1}
    table.put_item(Item=item, ConditionExpression=Attr("customer_id").not_exists())
    with pytest.raises(ClientError) as taken:  # the same create again: the condition fails
        table.put_item(Item=item, ConditionExpression=Attr("customer_id").not_exists())
    assert taken.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    updated = table.update_item(
        Key={"customer_id": "C9999001", "pref": "profile"},
        UpdateExpression="SET quiet_hours = :q, version = version + :one",
        ConditionExpression="version = :seen",
        ExpressionAttributeValues={":q": {"start": "21:00", "end": "08:00"}, ":one": 1, ":seen": 1},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated["version"] == 2 and updated["quiet_hours"]["start"] == "21:00"
    found = table.query(KeyConditionExpression=Key("customer_id").eq("C9999001"))["Items"]
    assert [i["language"] for i in found] == ["es-US"]
    assert ledger("docstore")["count"] == 2  # the refused put applied nothing


def test_throttling_and_validation_come_back_as_aws_errors(
    client: Any, control: httpx.Client
) -> None:
    with pytest.raises(ClientError) as missing:
        client.get_item(TableName="no_such_table", Key={"customer_id": {"S": "C1"}})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as wrong_key:
        client.get_item(TableName=TABLE, Key={"customer_id": {"S": "zq7"}})
    assert wrong_key.value.response["Error"]["Code"] == "ValidationException"
    assert "zq7" not in str(wrong_key.value)
    control.put("/_mock/docstore/throughput", json={"read_units_per_s": 1}).raise_for_status()
    key = {"customer_id": {"S": "C0000001"}, "pref": {"S": "profile"}}
    codes = []
    for _ in range(3):
        try:
            client.get_item(TableName=TABLE, Key=key)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes[0] == "ok" and "ProvisionedThroughputExceededException" in codes[1:]
