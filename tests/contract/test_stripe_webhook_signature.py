"""The payments mock's webhooks verify with Stripe's own library, ``stripe.Webhook``.

A receiver on its own loopback port keeps what the mock posts; ``construct_event`` then
checks the body and its ``Stripe-Signature`` (within its default 300 s tolerance of the
real clock) exactly as a Stripe integration would, and refuses it under another secret or
with a byte changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.serving import ServerHandle, serve_in_thread
from tests.contract.test_stripe_sdk import stripe_client

pytestmark = pytest.mark.contract
SECRET = "whsec_contract_switchboard"


@pytest.fixture(scope="module")
def received() -> Iterator[tuple[ServerHandle, list[tuple[bytes, str]]]]:
    posts: list[tuple[bytes, str]] = []

    async def keep(request: Request) -> Response:
        posts.append((await request.body(), request.headers.get("stripe-signature", "")))
        return Response(status_code=200)

    handle = serve_in_thread(Starlette(routes=[Route("/hook", keep, methods=["POST"])]))
    yield handle, posts
    handle.stop()


def test_stripe_library_verifies_the_mocks_signatures(
    received: tuple[ServerHandle, list[tuple[bytes, str]]],
    control: httpx.Client,
    mocks_url: str,
) -> None:
    handle, posts = received
    posts.clear()
    body: dict[str, Any] = {"endpoints": [{"url": f"{handle.url}/hook", "secret": SECRET}]}
    assert control.put("/_mock/payments/webhook-endpoints", json=body).status_code == 200
    sdk = stripe_client(mocks_url).v1.payment_intents
    intent = sdk.create(
        {"amount": 2500, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"}
    )
    assert control.get("/_mock/payments/webhooks", params={"wait_ms": 5000}).json()["idle"]

    [(payload, signature)] = posts
    event = stripe.Webhook.construct_event(payload, signature, SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object["id"] == intent.id

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):  # a byte changed on the way
        stripe.Webhook.construct_event(payload.replace(b"2500", b"2501"), signature, SECRET)
