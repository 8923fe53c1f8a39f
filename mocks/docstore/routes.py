"""DynamoDB's wire format: every operation is ``POST /`` with ``X-Amz-Target:
DynamoDB_20120810.<Operation>`` and a JSON 1.0 body, answered in
``application/x-amz-json-1.0``.

Mounted under ``/docstore``, so boto3 reaches it with
``boto3.client("dynamodb", endpoint_url="<mocks>/docstore/", region_name="us-east-1",
aws_access_key_id=..., aws_secret_access_key=...)``: any access key works, since the
SigV4 signature is checked for presence only (docs/sdk-recipes.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mocks.docstore.errors import AMZ_JSON, AmzJsonResponse, DynamoErrorBody, DynamoErrorRoute
from mocks.docstore.service import OPERATIONS, TARGET_PREFIX, DocstoreService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.state import service_in

__all__ = ["Docstore", "current_docstore", "router"]

router = APIRouter(
    route_class=DynamoErrorRoute,
    tags=["docstore"],
    responses=error_responses(DynamoErrorBody, *GATEWAY_STATUSES),
)

_VALUE: dict[str, Any] = {
    "type": "object",
    "description": 'an AttributeValue: {"S": "text"}, {"N": "42"}, {"BOOL": true}, {"M": {...}}...',
}
_ITEM = {"type": "object", "additionalProperties": _VALUE}
_TEXT = {"type": "string"}
_REQUEST = {
    "type": "object",
    "properties": {
        "TableName": _TEXT,
        "Key": _ITEM,
        "Item": _ITEM,
        "IndexName": _TEXT,
        "KeyConditionExpression": _TEXT,
        "FilterExpression": _TEXT,
        "ConditionExpression": _TEXT,
        "UpdateExpression": _TEXT,
        "ProjectionExpression": _TEXT,
        "ExpressionAttributeNames": {"type": "object", "additionalProperties": _TEXT},
        "ExpressionAttributeValues": _ITEM,
        "ReturnValues": {
            "type": "string",
            "enum": ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        },
        "ReturnConsumedCapacity": {"type": "string", "enum": ["NONE", "TOTAL", "INDEXES"]},
        "ReturnValuesOnConditionCheckFailure": {"type": "string", "enum": ["NONE", "ALL_OLD"]},
        "Limit": {"type": "integer"},
        "ExclusiveStartKey": _ITEM,
        "ScanIndexForward": {"type": "boolean"},
        "Select": {"type": "string", "enum": ["ALL_ATTRIBUTES", "COUNT"]},
        "ConsistentRead": {"type": "boolean"},
    },
}
_OPERATION = {
    "parameters": [
        {
            "name": "X-Amz-Target",
            "in": "header",
            "required": True,
            "description": "the operation",
            "schema": {"type": "string", "enum": [TARGET_PREFIX + op for op in OPERATIONS]},
        },
        {
            "name": "X-Amz-Date",
            "in": "header",
            "required": True,
            "description": "SigV4's timestamp (present; not checked)",
            "schema": {"type": "string"},
        },
    ],
    # botocore sends JSON 1.0's media type; plain JSON is taken too (the body is the same).
    "requestBody": {
        "required": True,
        "content": {AMZ_JSON: {"schema": _REQUEST}, "application/json": {"schema": _REQUEST}},
    },
}
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The operation's answer (Item, Items, Attributes, Table...)",
        "content": {AMZ_JSON: {"schema": {"type": "object"}}},
    }
}


async def current_docstore(request: Request) -> DocstoreService:
    return service_in(request, DocstoreService)


Docstore = Annotated[DocstoreService, Depends(current_docstore)]


@router.post(
    "/",
    summary="Any DynamoDB operation, named by X-Amz-Target",
    response_class=AmzJsonResponse,
    responses={**_ANSWER, **error_responses(DynamoErrorBody, *BODY_STATUSES)},
    openapi_extra=_OPERATION,
)
async def operation(request: Request, docstore: Docstore) -> Response:
    answer = docstore.handle(request.headers.get("x-amz-target"), await request.body())
    return AmzJsonResponse(answer)
