"""Stripe-Signature checks on an injected clock, and the payments webhook secret's file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integration.access import (
    API_TOKEN_ENV,
    PAYMENTS_WEBHOOK_SECRET_ENV,
    SECRETS_FILE,
    VAPI_SECRET_ENV,
    Access,
    ensure_secrets,
)
from integration.clients.stripe_events import EventRefused, verify_event
from mocks.platform.webhooks import sign

SECRET = "whsec_unit_0123456789abcdef"
NOW = 1_800_000_000.0
EVENT = {
    "id": "evt_1",
    "type": "charge.captured",
    "created": 1,
    "data": {"object": {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"}},
}


def _body() -> bytes:
    return json.dumps(EVENT).encode()


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_a_signature_within_the_tolerance_is_taken(offset: int) -> None:
    header = sign(SECRET, _body(), int(NOW) + offset)
    event = verify_event(_body(), header, SECRET, now=NOW, tolerance_s=300)
    assert (event.event_id, event.type, event.intent_id) == ("evt_1", "charge.captured", "pi_1")


@pytest.mark.parametrize("offset", [-301, 301])
def test_one_second_past_the_tolerance_is_stale(offset: int) -> None:
    header = sign(SECRET, _body(), int(NOW) + offset)
    with pytest.raises(EventRefused) as refused:
        verify_event(_body(), header, SECRET, now=NOW, tolerance_s=300)
    assert refused.value.reason == "stale"


def test_any_of_several_v1_signatures_may_match_while_a_secret_rolls() -> None:
    good = sign(SECRET, _body(), int(NOW))
    old = sign("whsec_the_old_one_000000", _body(), int(NOW)).split(",")[1]
    event = verify_event(_body(), f"{good},{old}", SECRET, now=NOW, tolerance_s=300)
    assert event.event_id == "evt_1"


@pytest.mark.parametrize(
    "header",
    [None, "", "t=1", "v1=" + "a" * 64, "t=x,v1=" + "a" * 64, "t=1," * 2000, "garbage"],
)
def test_malformed_headers_are_refused_without_echo(header: str | None) -> None:
    with pytest.raises(EventRefused) as refused:
        verify_event(_body(), header, SECRET, now=NOW, tolerance_s=300)
    assert refused.value.reason == "bad_signature"
    assert "garbage" not in str(refused.value)


def test_no_secret_refuses_everything() -> None:
    header = sign(SECRET, _body(), int(NOW))
    with pytest.raises(EventRefused) as refused:
        verify_event(_body(), header, "", now=NOW, tolerance_s=300)
    assert refused.value.reason == "no_secret"


def test_new_secrets_include_the_webhook_secret(tmp_path: Path) -> None:
    made = ensure_secrets(tmp_path)
    assert made[PAYMENTS_WEBHOOK_SECRET_ENV].startswith("whsec_")
    assert ensure_secrets(tmp_path) == made
    access = Access.resolve(None, None, "127.0.0.1", tmp_path)
    assert access.payments_webhook_secret == made[PAYMENTS_WEBHOOK_SECRET_ENV]


def test_an_older_secrets_file_gets_the_webhook_secret_added_once(tmp_path: Path) -> None:
    path = tmp_path / SECRETS_FILE
    path.write_text(f"{API_TOKEN_ENV}={'a' * 32}\n{VAPI_SECRET_ENV}={'b' * 32}\n")
    first = ensure_secrets(tmp_path)
    assert first[API_TOKEN_ENV] == "a" * 32 and first[PAYMENTS_WEBHOOK_SECRET_ENV]
    assert ensure_secrets(tmp_path) == first
    assert path.read_text().count(PAYMENTS_WEBHOOK_SECRET_ENV) == 1


def test_beyond_loopback_without_the_webhook_secret_it_stays_empty(tmp_path: Path) -> None:
    access = Access.resolve("a" * 32, "b" * 32, "10.1.2.3", tmp_path)
    assert access.payments_webhook_secret == ""
    assert not (tmp_path / SECRETS_FILE).exists()
