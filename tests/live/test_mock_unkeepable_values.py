"""No write can leave a system holding a value it cannot answer with again.

A JSON string holding a lone UTF-16 surrogate ("\\ud800") used to be stored as it came, and
from then on the system's ledger (and the email outbox, Slack's messages, Segment's events)
answered 500 until a reset. Now the gateway refuses such a value, and NaN, Infinity and
integers past 64 bits, with a 400 in the vendor's own shape naming the field. Forms cannot
carry a lone surrogate (percent-decoding replaces bad UTF-8), so form writes are stored with
U+FFFD instead. Every system that takes writes is tried, and every ledger read afterwards.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials

CRED = MockCredentials()
BAD = "Ada \ud800"  # a lone high surrogate: not text, and not encodable as UTF-8
JSON = {"content-type": "application/json"}
SEGMENT = "Basic " + base64.b64encode(f"{CRED.segment_write_key}:".encode()).decode()
SYSTEMS_WITH_WRITES = (
    "crm",
    "eligibility",
    "payments",
    "messaging",
    "email",
    "calendar",
    "slack",
    "analytics",
    "erp",
    "loans",
)
INSPECTIONS = (
    "/_mock/email/outbox",
    "/_mock/slack/messages",
    "/_mock/analytics/events",
    "/_mock/payments/charges",
    "/_mock/messaging/callbacks/log",
)


def raw_json(body: Any) -> bytes:
    """JSON as a client library writes it: a lone surrogate becomes the escape \\ud800."""
    return json.dumps(body).encode()


def everything_still_reads(control: httpx.Client) -> None:
    for system in SYSTEMS_WITH_WRITES:
        ledger = control.get(f"/_mock/{system}/ledger")
        assert ledger.status_code == 200, (system, ledger.text)
    for path in INSPECTIONS:
        assert control.get(path).status_code == 200, path


# Each case: (system, how to send the write, the field the answer must name).
Send = Callable[[httpx.Client, httpx.Client], httpx.Response]


def crm(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    lead = {"LastName": BAD, "Company": "ACME", "Phone": "+15550100"}
    return sf.post("/services/data/v59.0/sobjects/Lead/", content=raw_json(lead), headers=JSON)


def eligibility(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    check = {"customer_id": "C0000001", "product_code": BAD}
    headers = {**JSON, "X-Api-Key": CRED.eligibility_api_key}
    return client.post("/eligibility/v1/checks", content=raw_json(check), headers=headers)


def email(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    mail = {
        "personalizations": [{"to": [{"email": "ada@example.com"}]}],
        "from": {"email": "agent@switchboard.example"},
        "subject": BAD,
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    headers = {**JSON, "Authorization": f"Bearer {CRED.sendgrid_api_key}"}
    return client.post("/email/v3/mail/send", content=raw_json(mail), headers=headers)


def calendar(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    event = {
        "summary": BAD,
        "start": {"dateTime": "2031-03-03T10:00:00Z"},
        "end": {"dateTime": "2031-03-03T10:30:00Z"},
    }
    headers = {**JSON, "Authorization": f"Bearer {CRED.google_access_token}"}
    path = "/calendar/calendar/v3/calendars/primary/events"
    return client.post(path, content=raw_json(event), headers=headers)


def slack(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    post = {"channel": "C0SWB0GEN", "text": BAD}
    headers = {**JSON, "Authorization": f"Bearer {CRED.slack_bot_token}"}
    return client.post("/slack/api/chat.postMessage", content=raw_json(post), headers=headers)


def analytics(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    track = {"userId": "u1", "event": BAD}
    headers = {**JSON, "Authorization": SEGMENT}
    return client.post("/analytics/v1/track", content=raw_json(track), headers=headers)


def analytics_gzipped(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    batch = {"batch": [{"type": "track", "userId": "u1", "event": BAD}]}
    headers = {
        **JSON,
        "content-encoding": "gzip",
        "Authorization": SEGMENT,
    }
    return client.post(
        "/analytics/v1/batch", content=gzip.compress(raw_json(batch)), headers=headers
    )


def erp(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    order = {"customer_id": "C0000001", "lines": [{"sku": BAD, "quantity": 1}]}
    headers = {**JSON, "X-Api-Key": CRED.erp_api_key}
    return client.post("/erp/api/v1/orders", content=raw_json(order), headers=headers)


def loans(client: httpx.Client, sf: httpx.Client) -> httpx.Response:
    application = {"customer_id": BAD, "product_code": "LOAN-PERSONAL", "amount_cents": 100_000}
    headers = {**JSON, "X-Api-Key": CRED.loans_api_key}
    return client.post("/loans/api/v1/applications", content=raw_json(application), headers=headers)


def named_field(system: str, response: httpx.Response) -> str:
    """The field the vendor's error names, read the vendor's way."""
    body = response.json()
    if system == "crm":
        [error] = body
        assert error["errorCode"] == "JSON_PARSER_ERROR"
        return str(error["fields"][0])
    if system == "eligibility":
        return str(body["error"]["param"])
    if system == "email":
        return str(body["errors"][0]["field"])
    if system == "calendar":
        return str(body["error"]["errors"][0]["location"])
    if system == "slack":
        assert body["ok"] is False
        return str(body["response_metadata"]["messages"][0].split()[1])
    if system == "analytics":
        assert body["success"] is False
        return str(body["message"].split()[0])
    assert response.headers["content-type"] == "application/problem+json"
    return str(body["errors"][0]["field"])


@pytest.mark.parametrize(
    ("system", "send", "field"),
    [
        ("crm", crm, "LastName"),
        ("eligibility", eligibility, "product_code"),
        ("email", email, "subject"),
        ("calendar", calendar, "summary"),
        ("slack", slack, "text"),
        ("analytics", analytics, "event"),
        ("analytics", analytics_gzipped, "batch[0].event"),
        ("erp", erp, "lines[0].sku"),
        ("loans", loans, "customer_id"),
    ],
)
def test_a_lone_surrogate_is_refused_naming_the_field(
    client: httpx.Client,
    sf: httpx.Client,
    control: httpx.Client,
    system: str,
    send: Send,
    field: str,
) -> None:
    response = send(client, sf)
    assert response.status_code == 400, response.text
    assert named_field(system, response) == field
    assert "Ada" not in response.text  # the value is never repeated
    assert control.get(f"/_mock/{system}/ledger").json()["count"] == 0
    everything_still_reads(control)


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        ("NaN", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        ("1e999", "must be a finite number"),
        ("92233720368547758070", "must be an integer between -2^63 and 2^63-1"),
        ("9" * 5000, "must be an integer between -2^63 and 2^63-1"),
    ],
)
def test_numbers_no_store_can_answer_with_are_refused_too(
    sf: httpx.Client, control: httpx.Client, literal: str, why: str
) -> None:
    body = '{"LastName": "Lovelace", "Company": "ACME", "AnnualRevenue": ' + literal + "}"
    response = sf.post("/services/data/v59.0/sobjects/Lead/", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["fields"] == ["AnnualRevenue"]
    assert error["message"] == f"AnnualRevenue {why}"
    everything_still_reads(control)


def test_a_key_that_is_not_text_is_refused(sf: httpx.Client, control: httpx.Client) -> None:
    body = b'{"LastName": "Lovelace", "Company": "ACME", "\\udc00": 1}'
    response = sf.post("/services/data/v59.0/sobjects/Lead/", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json()[0]["message"] == "body has a key that is not valid text"
    everything_still_reads(control)


def test_forms_keep_bad_bytes_as_replacement_characters(
    client: httpx.Client, control: httpx.Client
) -> None:
    stripe = {"Authorization": f"Bearer {CRED.stripe_secret_key}"}
    intent = client.post(
        "/payments/v1/payment_intents",
        content=b"amount=500&currency=usd&description=Ada%20%ED%A0%80",
        headers={**stripe, "content-type": "application/x-www-form-urlencoded"},
    )
    assert intent.status_code == 200, intent.text
    assert intent.json()["description"] == "Ada \ufffd\ufffd\ufffd"
    twilio = httpx.BasicAuth(CRED.twilio_account_sid, CRED.twilio_auth_token)
    sent = client.post(
        f"/messaging/2010-04-01/Accounts/{CRED.twilio_account_sid}/Messages.json",
        content=b"To=%2B14155550123&From=%2B18005550100&Body=Ada%20%ED%A0%80",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=twilio,
    )
    assert sent.status_code == 201, sent.text
    posted = client.post(
        "/slack/api/chat.postMessage",
        content=b"channel=C0SWB0GEN&text=Ada%20%ED%A0%80",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {CRED.slack_bot_token}",
        },
    )
    assert posted.json()["ok"] is True, posted.text
    for system in ("payments", "messaging", "slack"):
        assert control.get(f"/_mock/{system}/ledger").json()["count"] == 1, system
    everything_still_reads(control)
