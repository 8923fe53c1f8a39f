"""A sanity check that the official ``stripe`` SDK works against the payments mock.

The SDK takes its base URL per client: ``base_addresses={"api": <mocks>/payments}`` (plain
http on loopback is fine; the SDK appends ``/v1/...`` itself). The module-level equivalent
is ``stripe.api_base = <mocks>/payments``.
"""

from __future__ import annotations

import pytest
import stripe

from mocks.settings import MockCredentials

pytestmark = pytest.mark.contract


@pytest.fixture
def sdk(mocks_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        MockCredentials().stripe_secret_key,
        base_addresses={"api": mocks_url + "/payments"},
        max_network_retries=0,
    )


def test_the_sdk_creates_confirms_declines_and_pages(sdk: stripe.StripeClient) -> None:
    intents = sdk.v1.payment_intents
    paid = intents.create(
        {"amount": 1999, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
         "metadata": {"order_id": "O-1"}},
        {"idempotency_key": "sdk-1"},
    )
    assert paid.status == "succeeded" and paid.metadata["order_id"] == "O-1"
    again = intents.create(
        {"amount": 1999, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
         "metadata": {"order_id": "O-1"}},
        {"idempotency_key": "sdk-1"},
    )
    assert again.id == paid.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.CardError) as declined:
        intents.create({"amount": 500, "currency": "usd", "confirm": True,
                        "payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert declined.value.code == "card_declined" and declined.value.http_status == 402
    assert declined.value.error is not None
    assert declined.value.error.decline_code == "insufficient_funds"
    assert declined.value.error.payment_intent is not None
    assert declined.value.error.payment_intent.status == "requires_payment_method"

    with pytest.raises(stripe.IdempotencyError):
        intents.create({"amount": 2000, "currency": "usd"}, {"idempotency_key": "sdk-1"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        intents.create({"currency": "usd"})  # type: ignore[typeddict-item]
    assert missing.value.param == "amount"

    fresh = intents.create({"amount": 700, "currency": "eur"})
    canceled = intents.cancel(fresh.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled"
    listed = [pi.id for pi in intents.list({"limit": 1}).auto_paging_iter()]
    assert listed == [fresh.id, declined.value.error.payment_intent.id, paid.id]


def test_a_wrong_key_raises_the_sdks_authentication_error(mocks_url: str) -> None:
    client = stripe.StripeClient("sk_test_nope", base_addresses={"api": mocks_url + "/payments"})
    with pytest.raises(stripe.AuthenticationError):
        client.v1.payment_intents.list()
