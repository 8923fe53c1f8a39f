"""The payments mock's signed webhooks, received by a small server on its own loopback port.

The receiver records every post and answers 200 under ``/ok/...``, 500 under ``/fail/...``
and 500 then 200 under ``/flaky/...``; each test posts to its own path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.serving import serve_in_thread
from mocks.settings import MockSettings

SECRET = "whsec_test_switchboard_secret"
FAST = {"max_attempts": 3, "base_delay_s": 0.05, "max_delay_s": 0.1}


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)

    def endpoint(self, outcome: str = "ok") -> str:
        return f"{self.url}/{outcome}/{uuid.uuid4().hex}"

    def posts_to(self, endpoint: str) -> list[dict[str, Any]]:
        return [p for p in self.posts if p["url"] == endpoint]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    posts: list[dict[str, Any]] = []

    async def record(request: Request) -> PlainTextResponse:
        url = str(request.url)
        body = await request.body()
        earlier = sum(1 for p in posts if p["url"] == url)
        posts.append(
            {"url": url, "body": body, "signature": request.headers.get("stripe-signature")}
        )
        outcome = request.path_params["outcome"]
        failing = outcome == "fail" or (outcome == "flaky" and earlier == 0)
        return PlainTextResponse("nope" if failing else "", status_code=500 if failing else 200)

    app = Starlette(routes=[Route("/{outcome}/{name}", record, methods=["POST"])])
    handle = serve_in_thread(app)
    yield Receiver(url=handle.url, posts=posts)
    handle.stop()


@pytest.fixture
def stripe_http(client: httpx.Client, mock_settings: MockSettings) -> httpx.Client:
    client.headers["authorization"] = f"Bearer {mock_settings.credentials.stripe_secret_key}"
    return client


def _configure(control: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    body = {"endpoints": [{"url": url, "secret": SECRET, **extra}], "retry": FAST}
    answer = control.put("/_mock/payments/webhook-endpoints", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _pay(http: httpx.Client, card: str = "pm_card_visa", **form: str) -> dict[str, Any]:
    answer = http.post(
        "/payments/v1/payment_intents",
        data={"amount": "1500", "currency": "usd", "confirm": "true", "payment_method": card}
        | form,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    return dict(answer.json())


def _log(control: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = control.get("/_mock/payments/webhooks", params={"wait_ms": 5000, **params})
    assert answer.status_code == 200
    return dict(answer.json())


def _verify(post: dict[str, Any]) -> dict[str, Any]:
    """Stripe's scheme by hand: t=<unix>,v1=<hex hmac-sha256 of 't.payload'>."""
    parts = dict(item.split("=", 1) for item in post["signature"].split(","))
    signed = f"{parts['t']}.".encode() + post["body"]
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    return dict(json.loads(post["body"]))


def test_a_charge_is_posted_signed_as_a_stripe_event(
    receiver: Receiver, control: httpx.Client, stripe_http: httpx.Client
) -> None:
    url = receiver.endpoint()
    _configure(control, url)
    intent = _pay(stripe_http)
    log = _log(control)
    assert log["idle"] is True
    [post] = receiver.posts_to(url)
    event = _verify(post)
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["type"] == "payment_intent.succeeded"
    assert event["data"]["object"]["id"] == intent["id"]
    assert isinstance(event["created"], int)
    [delivery] = log["deliveries"]
    assert delivery["event_id"] == event["id"] and delivery["status"] == "delivered"
    assert [a["http_status"] for a in delivery["attempts"]] == [200]
    assert log["endpoints"][0]["secret"] != SECRET  # the log never shows the secret


def test_decline_manual_capture_and_cancel_each_have_their_event(
    receiver: Receiver, control: httpx.Client, stripe_http: httpx.Client
) -> None:
    url = receiver.endpoint()
    _configure(control, url)
    _pay(stripe_http, "pm_card_chargeDeclined")
    held = _pay(stripe_http, capture_method="manual")
    assert held["status"] == "requires_capture"
    captured = stripe_http.post(
        f"/payments/v1/payment_intents/{held['id']}/capture",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert captured.status_code == 200
    other = _pay(stripe_http, capture_method="manual")
    stripe_http.post(f"/payments/v1/payment_intents/{other['id']}/cancel")
    _log(control)
    types = [_verify(p)["type"] for p in receiver.posts_to(url)]
    assert sorted(types) == sorted(
        [
            "payment_intent.payment_failed",
            "payment_intent.amount_capturable_updated",
            "payment_intent.succeeded",
            "charge.captured",
            "payment_intent.amount_capturable_updated",
            "payment_intent.canceled",
        ]
    )


def test_a_failing_receiver_is_retried_with_backoff_then_failed(
    receiver: Receiver, control: httpx.Client, stripe_http: httpx.Client
) -> None:
    flaky, failing = receiver.endpoint("flaky"), receiver.endpoint("fail")
    body = {
        "endpoints": [{"url": flaky, "secret": SECRET}, {"url": failing, "secret": SECRET}],
        "retry": FAST,
    }
    assert control.put("/_mock/payments/webhook-endpoints", json=body).status_code == 200
    _pay(stripe_http)
    log = _log(control)
    by_url = {d["url"]: d for d in log["deliveries"]}
    assert by_url[flaky]["status"] == "delivered"
    assert [a["http_status"] for a in by_url[flaky]["attempts"]] == [500, 200]
    assert by_url[failing]["status"] == "failed"
    assert [a["http_status"] for a in by_url[failing]["attempts"]] == [500, 500, 500]
    assert by_url[failing]["next_retry_at"] is None
    # Each attempt signed afresh, the same event each time.
    assert len({_verify(p)["id"] for p in receiver.posts_to(failing)}) == 1


def test_faults_duplicate_an_event_under_one_id(
    receiver: Receiver, control: httpx.Client, stripe_http: httpx.Client
) -> None:
    url = receiver.endpoint()
    _configure(control, url)
    faults = {"duplicate": True, "delay_s": 0.05}
    assert control.put("/_mock/payments/webhooks/faults", json=faults).status_code == 200
    _pay(stripe_http)
    _log(control)
    events = [_verify(p) for p in receiver.posts_to(url)]
    assert len(events) == 2 and events[0]["id"] == events[1]["id"]


def test_an_unreachable_endpoint_never_delays_the_charge(
    control: httpx.Client, stripe_http: httpx.Client
) -> None:
    _configure(control, "http://127.0.0.1:9/nothing")  # the discard port: refused
    answer = stripe_http.post(
        "/payments/v1/payment_intents",
        data={
            "amount": "900",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
        },
    )
    assert answer.status_code == 200
    [delivery] = _log(control)["deliveries"]
    assert delivery["status"] == "failed" and delivery["attempts"][0]["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"endpoints": [{"url": "ftp://x"}]},
        {"endpoints": [{"url": "http://x", "secret": "s3cr3t!"}]},
        {"endpoints": [{"url": "http://x"}], "retry": {"max_attempts": 10_000}},
        {"endpoints": [{"url": "http://x"}] * 17},
    ],
)
def test_bad_endpoint_settings_are_refused_without_echo(
    control: httpx.Client, body: dict[str, Any]
) -> None:
    answer = control.put("/_mock/payments/webhook-endpoints", json=body)
    assert answer.status_code in (400, 422)
    assert "ftp://x" not in answer.text and "s3cr3t!" not in answer.text


def test_setting_endpoints_needs_the_chaos_token(client: httpx.Client) -> None:
    answer = client.put("/_mock/payments/webhook-endpoints", json={"endpoints": []})
    assert answer.status_code == 401
