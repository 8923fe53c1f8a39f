"""Every body is bounded before any system or control plane sees it: a size limit (413) and
a JSON nesting limit (400), both in the system's own error shape, both configurable in
``MockSettings`` (``max_body_bytes``, ``max_json_depth``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from app.serving import serve_in_thread
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockCredentials, MockSettings
from tests.conftest import CONTROL_HEADERS

CHECKS = "/eligibility/v1/checks"
KEY = {"X-Api-Key": MockCredentials().eligibility_api_key, "content-type": "application/json"}
SENDGRID = {"Authorization": f"Bearer {MockCredentials().sendgrid_api_key}"}


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    head = b'{"customer_id": "C0000001", "product_code": "LOAN-AUTO", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def nested(levels: int) -> bytes:
    return b'{"personalizations": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def test_a_body_past_the_limit_is_refused_in_the_vendors_shape(
    client: httpx.Client, mock_settings: MockSettings, control: httpx.Client
) -> None:
    too_big = padded(mock_settings.max_body_bytes + 1)
    response = client.post(CHECKS, content=too_big, headers=KEY)
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("payload_too_large", "body")
    assert str(mock_settings.max_body_bytes) in error["message"]
    assert len(response.content) < 500  # a small answer, nothing of the body in it
    assert control.get("/_mock/eligibility/ledger").json()["count"] == 0
    just_fits = padded(mock_settings.max_body_bytes)
    assert client.post(CHECKS, content=just_fits, headers=KEY).status_code == 422  # "pad"


def test_a_streamed_body_is_counted_as_it_arrives(
    client: httpx.Client, mock_settings: MockSettings
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield b'{"customer_id": "'
        for _ in range(mock_settings.max_body_bytes // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(CHECKS, content=chunks(), headers=KEY)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_control_planes_are_bounded_too_in_fastapis_shape(
    control: httpx.Client, mock_settings: MockSettings
) -> None:
    too_big = b'{"pad": "' + b"x" * mock_settings.max_body_bytes + b'"}'
    response = control.put("/_chaos/systems/eligibility", content=too_big)
    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "payload_too_large"
    deep = b'{"latency": ' + b"[" * 100 + b"]" * 100 + b"}"
    response = control.put("/_chaos/systems/eligibility", content=deep)
    assert response.status_code == 400
    assert response.json()["detail"] == [
        {
            "type": "json_too_deep",
            "loc": ["body"],
            "msg": f"the JSON body nests deeper than {mock_settings.max_json_depth} levels",
        }
    ]


def test_json_nested_past_the_depth_limit_is_a_400(
    client: httpx.Client, mock_settings: MockSettings
) -> None:
    depth = mock_settings.max_json_depth
    too_deep = client.post("/email/v3/mail/send", content=nested(depth + 1), headers=SENDGRID)
    assert too_deep.status_code == 400
    [error] = too_deep.json()["errors"]
    assert error == {
        "message": f"the JSON body nests deeper than {depth} levels",
        "field": "body",
        "help": None,
    }
    # At the limit the body reaches SendGrid's own checks, which refuse it their way.
    at_limit = client.post("/email/v3/mail/send", content=nested(depth), headers=SENDGRID)
    assert at_limit.status_code == 400
    assert "nests deeper" not in at_limit.text
    # Brackets inside strings are text, not nesting.
    text = json.dumps({"personalizations": "[" * 10_000}).encode()
    in_a_string = client.post("/email/v3/mail/send", content=text, headers=SENDGRID)
    assert in_a_string.status_code == 400
    assert "nests deeper" not in in_a_string.text


@pytest.fixture
def strict_mocks(mock_settings: MockSettings, enterprise: MockEnterprise) -> Iterator[httpx.Client]:
    """The eligibility system alone, with small limits."""
    settings = mock_settings.model_copy(update={"max_body_bytes": 2048, "max_json_depth": 8})
    built = build_enterprise(settings, only=["eligibility"], dataset=enterprise.context.dataset)
    server = serve_in_thread(built.app)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield http
    finally:
        server.stop()


def test_both_limits_come_from_the_settings(strict_mocks: httpx.Client) -> None:
    assert strict_mocks.post(CHECKS, content=padded(2049), headers=KEY).status_code == 413
    assert strict_mocks.post(CHECKS, content=padded(2048), headers=KEY).status_code == 422
    nine_deep = b'{"customer_id": ' + b"[" * 8 + b"]" * 8 + b"}"
    refused = strict_mocks.post(CHECKS, content=nine_deep, headers=KEY)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "the JSON body nests deeper than 8 levels"
    control = strict_mocks.get("/_mock/health", headers=CONTROL_HEADERS)
    assert control.status_code == 200
