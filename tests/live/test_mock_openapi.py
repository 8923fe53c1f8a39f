"""Each system's OpenAPI document (``/<system>/openapi.json``) tells the truth: every
``$ref`` resolves from the document's root, every operation lists the client errors it can
answer in the vendor's own shape (never FastAPI's), and every operation that takes a body
documents it, forms included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.registry import SYSTEMS, MockEnterprise

WITH_BODY = ("post", "put", "patch")
# The schema each system's errors are documented with (what its error_body() returns).
ERROR_SCHEMAS = {
    "crm": "SalesforceErrors",
    "database": "BasicError",
    "eligibility": "ErrorEnvelope",
    "telephony": "TwilioErrorBody",
    "payments": "StripeErrorBody",
    "messaging": "TwilioErrorBody",
    "email": "SendGridErrors",
    "calendar": "GoogleErrorBody",
    "slack": "SlackErrorBody",
    "analytics": "SegmentErrorBody",
    "erp": "ProblemDetails",
    "loans": "ProblemDetails",
    "core": "SoapFaultEnvelope",
    "middleware": "GatewayErrorBody",
    "sheets": "SheetsErrorBody",
    "docstore": "DynamoErrorBody",
    "tracker": "JiraErrorBody",
}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict[str, Any], ref: str) -> Any:
    """A JSON pointer from the document's root (RFC 6901)."""
    assert ref.startswith("#/"), f"{ref} does not point into the document"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.fixture(params=sorted(SYSTEMS))
def document(
    request: pytest.FixtureRequest, client: httpx.Client, enterprise: MockEnterprise
) -> tuple[str, dict[str, Any]]:
    system = request.param
    if system not in enterprise.services:
        pytest.skip(f"{system} is not served (SWITCHBOARD_TEST_SYSTEMS)")
    response = client.get(f"/{system}/openapi.json")
    assert response.status_code == 200, response.text
    return system, response.json()


def test_every_ref_resolves_from_the_root(document: tuple[str, dict[str, Any]]) -> None:
    system, spec = document
    found = list(refs(spec))
    assert found, f"{system} documents no shapes at all"
    for ref in found:
        try:
            resolve(spec, ref)
        except (KeyError, TypeError):
            pytest.fail(f"{system}: {ref} does not resolve from the document's root")


def test_every_operation_lists_its_client_errors_in_the_vendors_shape(
    document: tuple[str, dict[str, Any]],
) -> None:
    system, spec = document
    wanted = f"#/components/schemas/{ERROR_SCHEMAS[system]}"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{system}: {method.upper()} {path}"
            responses = operation["responses"]
            client_errors = [status for status in responses if status.startswith("4")]
            assert client_errors, f"{where} lists no 4xx response"
            assert "HTTPValidationError" not in str(responses), f"{where}: FastAPI's 422 shape"
            for status in client_errors:
                schemas = [media["schema"] for media in responses[status]["content"].values()]
                assert schemas, f"{where} {status} has no schema"
            assert wanted in str(responses), f"{where} never shows {ERROR_SCHEMAS[system]}"


def test_every_operation_that_takes_a_body_documents_it(
    document: tuple[str, dict[str, Any]],
) -> None:
    system, spec = document
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in WITH_BODY:
                continue
            body = operation.get("requestBody")
            assert body, f"{system}: {method.upper()} {path} does not document its body"
            for media_type, content in body["content"].items():
                assert content.get("schema"), f"{system}: {path} {media_type} has no schema"


def test_form_bodies_are_documented_as_forms(client: httpx.Client) -> None:
    form = "application/x-www-form-urlencoded"
    stripe = client.get("/payments/openapi.json").json()["paths"]
    create = stripe["/v1/payment_intents"]["post"]["requestBody"]["content"][form]["schema"]
    assert {"amount", "currency"} <= set(create["properties"])
    twilio = client.get("/messaging/openapi.json").json()["paths"]
    send = next(ops["post"] for path, ops in twilio.items() if path.endswith("Messages.json"))
    assert "To" in send["requestBody"]["content"][form]["schema"]["properties"]


def test_problem_errors_are_documented_as_problem_json(client: httpx.Client) -> None:
    paths = client.get("/erp/openapi.json").json()["paths"]
    answers = paths["/api/v1/orders"]["post"]["responses"]
    assert list(answers["409"]["content"]) == ["application/problem+json"]
    assert list(answers["201"]["content"]) == ["application/json"]
