"""Stripe's payment events into the layer, end to end over loopback.

The payments mock posts its signed events to the served layer's ``/webhooks/payments``; the
layer checks the signature and its timestamp on an injected wall clock, takes each event
once by id, and keeps an event whose intent it has not recorded yet until the charge's own
answer is processed (here: the mock drops its answer, so the event wins the race every
time). Forged, stale and malformed posts are 400s that never echo what was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from integration.bootstrap import Integration
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer
from tests.live.test_outbox import outbox_policies

T = TypeVar("T")
SECRET = "whsec_layer_test_0123456789abcdef"


class ShiftedWall:
    """The wall clock the layer reads, moved on by the test (time is injected)."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@pytest.fixture
def wall() -> ShiftedWall:
    return ShiftedWall()


@pytest.fixture
def served(
    mocks_url: str,
    mock_settings: MockSettings,
    tmp_path: Path,
    control: httpx.Client,
    wall: ShiftedWall,
) -> Iterator[tuple[Integration, httpx.Client]]:
    # Slow enough retries that a test can clear a fault between two attempts.
    retry = {"max_attempts": 30, "base_ms": 150, "cap_ms": 1000, "max_retry_after_s": 1}
    policies = outbox_policies(tmp_path, retry=retry)
    with serve_layer(
        mocks_url,
        mock_settings,
        tmp_path,
        policies_file=policies,
        payments_webhook_secret=SECRET,
        build_options={"wall_clock": wall},
    ) as pair:
        hook = {
            "endpoints": [{"url": _url(pair[1], "/webhooks/payments"), "secret": SECRET}],
            "retry": {"max_attempts": 3, "base_delay_s": 0.05, "max_delay_s": 0.1},
        }
        control.put("/_mock/payments/webhook-endpoints", json=hook).raise_for_status()
        yield pair


@pytest.fixture(scope="module")
def route_layer(
    mocks_url: str, mock_settings: MockSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, ShiftedWall]]:
    """One layer for the tests that post to the route themselves (no charge involved)."""
    wall = ShiftedWall()
    with serve_layer(
        mocks_url,
        mock_settings,
        tmp_path_factory.mktemp("route"),
        payments_webhook_secret=SECRET,
        build_options={"wall_clock": wall},
    ) as (_, api):
        yield api, wall


@pytest.fixture
def route(route_layer: tuple[httpx.Client, ShiftedWall]) -> tuple[httpx.Client, ShiftedWall]:
    route_layer[1].shift = 0.0
    return route_layer


def _url(api: httpx.Client, path: str) -> str:
    return str(api.base_url).rstrip("/") + path


def wait_for(probe: Callable[[], T | None], timeout_s: float = 10.0) -> T:
    deadline = time.monotonic() + timeout_s
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
    return found


def signed(event: dict[str, Any], at: float, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    t = int(at)
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"stripe-signature": f"t={t},v1={digest}", "content-type": "application/json"}


def an_event(kind: str = "payment_intent.succeeded", intent: str = "pi_test1") -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": {"id": intent, "object": "payment_intent"}},
    }


def end_with_payment(api: httpx.Client, enterprise: MockEnterprise, **payment: Any) -> str:
    phone = enterprise.context.dataset.customers[0].phone_e164
    call_id = f"pay-{time.time_ns()}"
    assert api.post("/calls", json={"phone": phone, "call_id": call_id}).status_code == 201
    outcome = {
        "disposition": "resolved",
        "payment": {"amount": 4200, "payment_method": "pm_card_visa", **payment},
    }
    assert api.post(f"/calls/{call_id}/end", json=outcome).status_code == 201
    return call_id


def payment_of(api: httpx.Client, call_id: str) -> dict[str, Any] | None:
    found = api.get("/payments/status", params={"call_id": call_id}).json()["payments"]
    return found[0] if found else None


def test_an_event_before_the_charges_answer_is_kept_then_applied_once(
    served: tuple[Integration, httpx.Client],
    control: httpx.Client,
    enterprise: MockEnterprise,
) -> None:
    _, api = served
    # Stripe charges the card and sends the event, but its answer to the layer is lost:
    # the event reaches the layer before the layer knows the intent.
    drop = {"errors": {"rate": 1.0, "kinds": {"drop": 1}}}
    control.put("/_chaos/systems/payments", json=drop).raise_for_status()
    call_id = end_with_payment(api, enterprise)

    def pending() -> dict[str, Any] | None:
        rows = api.get("/payments/status", params={"pending": "true"}).json()["payments"]
        return rows[0] if rows else None

    early = wait_for(pending)
    assert early["status"] == "succeeded" and early["call_id"] is None
    assert [e["verdict"] for e in early["events"]] == ["pending"]
    control.delete("/_chaos/systems/payments").raise_for_status()
    # The retried charge replays under its key; its answer links the intent to the call.
    linked = wait_for(lambda: payment_of(api, call_id), timeout_s=20)
    assert linked["intent_id"] == early["intent_id"]
    assert linked["status"] == "succeeded"
    assert [e["verdict"] for e in linked["events"]] == ["kept_then_applied"]
    assert api.get("/payments/status", params={"pending": "true"}).json()["payments"] == []
    ledger = control.get("/_mock/payments/ledger").json()
    assert ledger["duplicate_keys"] == []


def test_authorised_during_the_call_captured_after_it(
    served: tuple[Integration, httpx.Client],
    client: httpx.Client,
    control: httpx.Client,
    enterprise: MockEnterprise,
    mock_settings: MockSettings,
) -> None:
    _, api = served
    call_id = end_with_payment(api, enterprise, capture="manual")
    held = wait_for(lambda: payment_of(api, call_id))
    wait_for(lambda: held if held["status"] == "authorized" else None)
    # The payments team captures it after the call, with Stripe's API.
    key = mock_settings.credentials.stripe_secret_key
    captured = client.post(
        f"/payments/v1/payment_intents/{held['intent_id']}/capture",
        headers={"authorization": f"Bearer {key}"},
    )
    assert captured.status_code == 200

    def captured_status() -> dict[str, Any] | None:
        found = payment_of(api, call_id)
        return found if found and found["status"] == "captured" else None

    final = wait_for(captured_status)
    kinds = {e["type"]: e["verdict"] for e in final["events"]}
    assert kinds["charge.captured"] == "applied"


def test_a_cancellation_after_the_call_raises_a_notice_through_the_outbox(
    served: tuple[Integration, httpx.Client],
    client: httpx.Client,
    enterprise: MockEnterprise,
    mock_settings: MockSettings,
) -> None:
    _, api = served
    call_id = end_with_payment(api, enterprise, capture="manual")
    held = wait_for(lambda: payment_of(api, call_id))
    key = mock_settings.credentials.stripe_secret_key
    cancelled = client.post(
        f"/payments/v1/payment_intents/{held['intent_id']}/cancel",
        headers={"authorization": f"Bearer {key}"},
    )
    assert cancelled.status_code == 200

    def notice() -> dict[str, Any] | None:
        rows = api.get("/outbox/effects", params={"call_id": call_id}).json()["effects"]
        found = [e for e in rows if e["name"] == "payment_notice"]
        return found[0] if found and found[0]["status"] == "delivered" else None

    posted = wait_for(notice)
    assert posted["system"] == "slack"
    assert payment_of(api, call_id)["status"] == "canceled"  # type: ignore[index]


def test_one_event_is_applied_once_however_often_it_comes(
    route: tuple[httpx.Client, ShiftedWall],
) -> None:
    api, wall = route
    event = an_event(intent="pi_twice")
    body, headers = signed(event, wall())
    verdicts = [
        api.post("/webhooks/payments", content=body, headers=headers).json()["verdict"]
        for _ in range(3)
    ]
    assert verdicts == ["pending", "duplicate", "duplicate"]
    [row] = api.get("/payments/status", params={"intent_id": "pi_twice"}).json()["payments"]
    assert len(row["events"]) == 1


def test_the_route_needs_no_token_but_a_signature(
    route: tuple[httpx.Client, ShiftedWall],
) -> None:
    api, wall = route
    body, headers = signed(an_event(), wall())
    bare = httpx.post(_url(api, "/webhooks/payments"), content=body, headers=headers)
    assert bare.status_code == 200
    # What reveals the secret, or the payments' status, still needs the token.
    for path in ("/payments/webhook-endpoint", "/payments/status"):
        assert httpx.get(_url(api, path)).status_code == 401
    shown = api.get("/payments/webhook-endpoint").json()
    assert shown["secret"] == SECRET and shown["url"].endswith("/webhooks/payments")


@pytest.mark.parametrize(
    "case",
    ["absent", "wrong_secret", "tampered", "garbage", "stale", "early", "not_json", "no_intent"],
)
def test_bad_posts_are_400s_that_never_echo(
    route: tuple[httpx.Client, ShiftedWall], case: str
) -> None:
    api, wall = route
    event = an_event(intent="pi_ECHOECHO")
    body, headers = signed(event, wall())
    if case == "absent":
        del headers["stripe-signature"]
    elif case == "wrong_secret":
        body, headers = signed(event, wall(), secret="whsec_someone_else_entirely")
    elif case == "tampered":
        body = body.replace(b"ECHOECHO", b"ECHOECHX")
    elif case == "garbage":
        headers["stripe-signature"] = "t=ECHOECHO,v1=" + "ECHO" * 600
    elif case == "stale":
        wall.shift = 310.0  # the layer's clock is 310 s past the signature (tolerance: 300)
    elif case == "early":
        wall.shift = -310.0
    elif case == "not_json":
        body, headers = signed({"id": "x"}, wall())
        body = b"ECHOECHO{" + body
        digest = hmac.new(SECRET.encode(), f"{int(wall())}.".encode() + body, hashlib.sha256)
        headers["stripe-signature"] = f"t={int(wall())},v1={digest.hexdigest()}"
    elif case == "no_intent":
        event["data"]["object"] = {"id": "ECHOECHO", "object": "payment_intent"}
        body, headers = signed(event, wall())
    answer = httpx.post(_url(api, "/webhooks/payments"), content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert "ECHO" not in answer.text
    assert api.get("/payments/status", params={"intent_id": "pi_ECHOECHO"}).json() == {
        "payments": []
    }
