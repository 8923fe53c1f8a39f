"""The email mock (SendGrid v3 Mail Send) over real HTTP."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mocks.settings import MockSettings

SEND = "/email/v3/mail/send"
GRANT_MESSAGE = "The provided authorization grant is invalid, expired, or revoked"


def a_mail(**changes: Any) -> dict[str, Any]:
    mail: dict[str, Any] = {
        "personalizations": [
            {
                "to": [{"email": "jordan.lee@example.com", "name": "Jordan Lee"}],
                "cc": [{"email": "advisor@example.com"}],
            }
        ],
        "from": {"email": "agent@switchboard.example", "name": "Switchboard"},
        "subject": "Your appointment is confirmed",
        "content": [
            {"type": "text/plain", "value": "See you Tuesday at 10:00."},
            {"type": "text/html", "value": "<p>See you Tuesday at 10:00.</p>"},
        ],
        "categories": ["appointment", "voice-agent"],
        "custom_args": {"call_sid": "CA123"},
    }
    mail.update(changes)
    return mail


@pytest.fixture
def sendgrid_client(client: httpx.Client, mock_settings: MockSettings) -> httpx.Client:
    client.headers["Authorization"] = f"Bearer {mock_settings.credentials.sendgrid_api_key}"
    return client


def errors_of(response: httpx.Response, status: int = 400) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors and all({"message", "field", "help"} <= e.keys() for e in errors)
    return errors


def test_send_is_accepted_with_a_message_id(sendgrid_client: httpx.Client) -> None:
    response = sendgrid_client.post(SEND, json=a_mail())
    assert response.status_code == 202, response.text
    assert response.content == b""
    message_id = response.headers["X-Message-Id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", message_id)
    outbox = sendgrid_client.get("/_mock/email/outbox").json()
    assert outbox["count"] == 1
    mail = outbox["mails"][0]
    assert mail | {} == mail | {
        "message_id": message_id,
        "to": ["jordan.lee@example.com"],
        "cc": ["advisor@example.com"],
        "subject": "Your appointment is confirmed",
        "categories": ["appointment", "voice-agent"],
        "from": "agent@switchboard.example",
        "custom_args": {"call_sid": "CA123"},
    }


def test_ledger_records_recipients_and_subject_not_the_body(sendgrid_client: httpx.Client) -> None:
    message_id = sendgrid_client.post(SEND, json=a_mail()).headers["X-Message-Id"]
    ledger = sendgrid_client.get("/_mock/email/ledger").json()
    assert ledger["count"] == 1
    entry = ledger["entries"][0]
    assert (entry["operation"], entry["resource"]) == ("mail.send", message_id)
    assert entry["detail"]["recipients"] == ["jordan.lee@example.com", "advisor@example.com"]
    assert entry["detail"]["subject"] == "Your appointment is confirmed"
    assert "Tuesday" not in json.dumps(ledger)


def test_personalization_subject_and_template(sendgrid_client: httpx.Client) -> None:
    mail = a_mail(
        template_id="d-" + "a" * 32,
        personalizations=[
            {"to": [{"email": "a@example.com"}], "dynamic_template_data": {"name": "A"}},
            {"to": [{"email": "b@example.com"}], "subject": "Just for B"},
        ],
    )
    del mail["content"], mail["subject"]
    assert sendgrid_client.post(SEND, json=mail).status_code == 202
    mails = sendgrid_client.get("/_mock/email/outbox").json()["mails"]
    assert [(m["to"], m["subject"], m["template_id"]) for m in mails] == [
        (["a@example.com"], None, "d-" + "a" * 32),
        (["b@example.com"], "Just for B", "d-" + "a" * 32),
    ]
    only_b = sendgrid_client.get("/_mock/email/outbox", params={"to": "B@example.com"}).json()
    assert only_b["count"] == 1


def _without(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(mail: dict[str, Any]) -> None:
        for key in keys:
            mail.pop(key)

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(mail: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = mail
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_without("from"), "from.email"),
        (_set("from.email", "agent-at-example"), "from.email"),
        (_without("personalizations"), "personalizations"),
        (
            _set("personalizations", [{"to": [{"email": "x@example.com"}]}] * 1001),
            "personalizations",
        ),
        (_set("personalizations.0.to", []), "personalizations.0.to"),
        (_set("personalizations.0.to.0.email", "jordan@"), "personalizations.0.to.0.email"),
        (_set("personalizations.0.cc.0.email", "not an email"), "personalizations.0.cc.0.email"),
        (_set("personalizations.0.cc.0.email", "Jordan.Lee@example.com"), "personalizations.0"),
        (_without("content"), "content"),
        (_set("content.1.value", ""), "content.1.value"),
        (
            _set(
                "content",
                [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}],
            ),
            "content",
        ),
        (_without("subject"), "subject"),
        (_set("template_id", "not-a-template"), "template_id"),
        (_set("categories", [f"c{i}" for i in range(11)]), "categories"),
        (_set("custom_args", {"attempt": 2}), "custom_args"),
        (_set("reply_to", {"email": "nobody"}), "reply_to.email"),
    ],
)
def test_validation_errors_name_the_field(
    sendgrid_client: httpx.Client, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    mail = copy.deepcopy(a_mail())
    change(mail)
    errors = errors_of(sendgrid_client.post(SEND, json=mail))
    assert field in [e["field"] for e in errors], errors
    assert sendgrid_client.get("/_mock/email/outbox").json()["count"] == 0
    assert sendgrid_client.get("/_mock/email/ledger").json()["count"] == 0


def test_all_problems_are_reported_at_once(sendgrid_client: httpx.Client) -> None:
    mail = a_mail(subject="")
    del mail["from"], mail["content"]
    errors = errors_of(sendgrid_client.post(SEND, json=mail))
    assert {e["field"] for e in errors} == {"from.email", "subject", "content"}
    assert all(e["help"].startswith("http://sendgrid.com/docs/") for e in errors)


def test_body_that_is_not_json_is_a_bad_request(sendgrid_client: httpx.Client) -> None:
    response = sendgrid_client.post(
        SEND, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert errors_of(response) == [{"message": "Bad Request", "field": None, "help": None}]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "authorization required"),
        ("Bearer SG.wrong", GRANT_MESSAGE),
        ("Basic SG.switchboard", GRANT_MESSAGE),
    ],
)
def test_auth_errors(client: httpx.Client, authorization: str | None, message: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(SEND, json=a_mail(), headers=headers)
    assert errors_of(response, 401) == [{"message": message, "field": None, "help": None}]


def test_sandbox_mode_validates_and_sends_nothing(sendgrid_client: httpx.Client) -> None:
    mail = a_mail(mail_settings={"sandbox_mode": {"enable": True}})
    assert sendgrid_client.post(SEND, json=mail).status_code == 200
    assert sendgrid_client.get("/_mock/email/outbox").json()["count"] == 0


def test_idempotent_replay_returns_the_same_message_id(sendgrid_client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "mail-1"}
    first = sendgrid_client.post(SEND, json=a_mail(), headers=headers)
    again = sendgrid_client.post(SEND, json=a_mail(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.headers["X-Message-Id"] == again.headers["X-Message-Id"]
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == b""
    other = sendgrid_client.post(SEND, json=a_mail(subject="Changed"), headers=headers)
    assert errors_of(other)[0]["field"] == "Idempotency-Key"
    ledger = sendgrid_client.get("/_mock/email/ledger").json()
    assert ledger["count"] == 1 and ledger["entries"][0]["idempotency_key"] == "mail-1"
    assert sendgrid_client.get("/_mock/email/outbox").json()["count"] == 1
    fresh = sendgrid_client.post(SEND, json=a_mail(), headers={"Idempotency-Key": "mail-2"})
    assert fresh.headers["X-Message-Id"] != first.headers["X-Message-Id"]


@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_injected_faults_use_sendgrid_error_shape(
    sendgrid_client: httpx.Client, control: httpx.Client, kind: str
) -> None:
    profile = {"errors": {"rate": 1.0, "kinds": {kind: 1.0}}}
    assert control.put("/_chaos/systems/email", json=profile).status_code == 200
    response = sendgrid_client.post(SEND, json=a_mail())
    assert response.headers["X-Injected-Fault"] == kind
    [error] = errors_of(response, int(kind))
    assert error["field"] is None and error["message"]
    assert sendgrid_client.get("/_mock/email/ledger").json()["count"] == 0
