"""Twilio's message status callbacks, without sockets: the ordering rules, the signature
against Twilio's own validator, and the callback URL setting (the receipts kept in the
store: tests/live/test_message_receipts.py)."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from integration.clients.messaging import twilio_signature, valid_twilio_signature
from integration.outbox.message_status import MESSAGE_STATUSES, judge
from integration.settings import IntegrationSettings
from mocks.messaging.callbacks import twilio_signature as mock_signature

SID = "SM" + "0a" * 16
OTHER_SID = "SM" + "0b" * 16


def replay(*arrivals: str) -> list[tuple[str, str | None]]:
    """Each arrival's verdict and the recorded status after it, by the rules alone."""
    current: str | None = None
    seen: list[str] = []
    out: list[tuple[str, str | None]] = []
    for status in arrivals:
        verdict = judge(current, seen, status)
        if verdict != "duplicate":
            seen.append(status)
        if verdict == "advanced":
            current = status
        out.append((verdict, current))
    return out


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        (
            ["queued", "sent", "delivered"],
            [("advanced", "queued"), ("advanced", "sent"), ("advanced", "delivered")],
        ),
        # The mock's reorder chaos: the last status before the one preceding it.
        (
            ["queued", "delivered", "sent"],
            [("advanced", "queued"), ("advanced", "delivered"), ("out_of_order", "delivered")],
        ),
        (
            ["queued", "queued", "delivered", "sent", "sent", "delivered"],
            [
                ("advanced", "queued"),
                ("duplicate", "queued"),
                ("advanced", "delivered"),
                ("out_of_order", "delivered"),
                ("duplicate", "delivered"),
                ("duplicate", "delivered"),
            ],
        ),
        (
            ["sent", "queued", "sending"],
            [("advanced", "sent"), ("out_of_order", "sent"), ("out_of_order", "sent")],
        ),
        # One final status sticks: a second, different one is out of order.
        (
            ["sent", "undelivered", "delivered"],
            [("advanced", "sent"), ("advanced", "undelivered"), ("out_of_order", "undelivered")],
        ),
        (
            ["queued", "failed", "sent"],
            [("advanced", "queued"), ("advanced", "failed"), ("out_of_order", "failed")],
        ),
        # WhatsApp: read after delivered, and a late delivered does not undo it.
        (
            ["accepted", "queued", "delivered", "read", "delivered"],
            [
                ("advanced", "accepted"),
                ("advanced", "queued"),
                ("advanced", "delivered"),
                ("advanced", "read"),
                ("duplicate", "read"),
            ],
        ),
        # A text that failed stays failed: a read after it contradicts it.
        (
            ["sent", "failed", "read"],
            [("advanced", "sent"), ("advanced", "failed"), ("out_of_order", "failed")],
        ),
        (
            ["read", "delivered", "sent"],
            [("advanced", "read"), ("out_of_order", "read"), ("out_of_order", "read")],
        ),
    ],
)
def test_status_only_moves_forward(
    arrivals: list[str], expected: list[tuple[str, str | None]]
) -> None:
    assert replay(*arrivals) == expected


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message status 'received'"):
        judge(None, (), "received")
    assert {"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"} <= (
        MESSAGE_STATUSES
    )


# -- receipts in the outbox's database ------------------------------------------------------


# -- the signature and the callback URL -----------------------------------------------------

URL = "https://switchboard.example.com/webhooks/twilio/status"
PARAMS = {"MessageSid": SID, "MessageStatus": "delivered", "To": "+14155550123", "Body": "a é"}


def test_signature_agrees_with_twilios_validator_and_the_mock() -> None:
    signed = twilio_signature(URL, PARAMS.items(), "token-1")
    assert signed == RequestValidator("token-1").compute_signature(URL, PARAMS)
    assert signed == mock_signature(URL, PARAMS, "token-1")
    assert valid_twilio_signature(signed, ["http://elsewhere/", URL], PARAMS.items(), "token-1")
    assert not valid_twilio_signature(signed, [URL], PARAMS.items(), "token-2")
    assert not valid_twilio_signature(signed, [URL + "?x=1"], PARAMS.items(), "token-1")
    tampered = {**PARAMS, "MessageStatus": "failed"}
    assert not valid_twilio_signature(signed, [URL], tampered.items(), "token-1")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "http://127.0.0.1:8000/webhooks/twilio/status"),
        ({"host": "0.0.0.0", "port": 8010}, "http://127.0.0.1:8010/webhooks/twilio/status"),
        ({"host": "::", "port": 8010}, "http://[::1]:8010/webhooks/twilio/status"),
        ({"public_url": "https://sb.example/"}, "https://sb.example/webhooks/twilio/status"),
        ({"port": 0}, None),  # unknown until the server binds
        ({"status_callbacks": False}, None),
    ],
)
def test_status_callback_url(given: dict[str, object], expected: str | None) -> None:
    assert IntegrationSettings(**given).status_callback_url == expected  # type: ignore[arg-type]


def test_public_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="public_url must be an http"):
        IntegrationSettings(public_url="sb.example.com")
