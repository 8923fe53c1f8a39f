"""The official ``sendgrid`` SDK against the email mock.

``SendGridAPIClient(api_key=<key>, host="<mocks>/email")`` is the whole setup: the SDK
appends ``/v3/mail/send`` itself. Extra headers (an ``Idempotency-Key``) go through the
fluent client underneath: ``sdk.client.mail.send.post(request_body=..., request_headers=...)``.
"""

from __future__ import annotations

import json

import httpx
import pytest
from python_http_client.exceptions import BadRequestsError, UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract


@pytest.fixture
def sdk(mocks_url: str) -> SendGridAPIClient:
    return SendGridAPIClient(api_key=MockCredentials().sendgrid_api_key, host=mocks_url + "/email")


def confirmation() -> Mail:
    return Mail(
        from_email="agent@switchboard.example",
        to_emails="jordan.lee@example.com",
        subject="Your appointment is confirmed",
        html_content="<p>Tuesday, 10:00</p>",
    )


def test_the_sdk_sends_once(
    sdk: SendGridAPIClient, ledger: LedgerReader, control: httpx.Client
) -> None:
    response = sdk.send(confirmation())
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]
    [entry] = ledger("email")["entries"]
    assert (entry["operation"], entry["resource"]) == ("mail.send", message_id)
    assert entry["detail"]["recipients"] == ["jordan.lee@example.com"]
    [mail] = control.get("/_mock/email/outbox").json()["mails"]
    assert mail["message_id"] == message_id


def test_a_retried_send_with_an_idempotency_key_applies_once(
    sdk: SendGridAPIClient, ledger: LedgerReader
) -> None:
    body = confirmation().get()
    key = {"Idempotency-Key": "sdk-mail-1"}
    first = sdk.client.mail.send.post(request_body=body, request_headers=key)
    again = sdk.client.mail.send.post(request_body=body, request_headers=key)
    assert first.headers["X-Message-Id"] == again.headers["X-Message-Id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    book = ledger("email")
    assert book["count"] == 1 and book["entries"][0]["idempotency_key"] == "sdk-mail-1"


def test_sendgrid_errors_raise_the_sdks_http_errors(
    sdk: SendGridAPIClient, mocks_url: str, ledger: LedgerReader
) -> None:
    invalid = confirmation().get()
    del invalid["subject"], invalid["content"]
    with pytest.raises(BadRequestsError) as refused:
        sdk.client.mail.send.post(request_body=invalid)
    errors = json.loads(refused.value.body)["errors"]
    assert errors and all({"message", "field", "help"} <= e.keys() for e in errors)
    stranger = SendGridAPIClient(api_key="SG.nope", host=mocks_url + "/email")
    with pytest.raises(UnauthorizedError):
        stranger.send(confirmation())
    assert ledger("email")["count"] == 0
