"""The official ``stripe`` SDK against the payments mock.

The SDK takes its base URL per client: ``base_addresses={"api": <mocks>/payments}`` (plain
http on loopback is fine; the SDK appends ``/v1/...`` itself). The module-level equivalent
is ``stripe.api_base = <mocks>/payments``. Idempotency keys go in the per-request options,
``{"idempotency_key": ...}``, exactly as against Stripe; without one the SDK sends a random
key of its own on every POST. ``capture_method=manual`` authorises at confirm and
``payment_intents.capture`` / ``cancel`` settle it later, each idempotent like any write.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
DECLINING_CARD = "pm_card_chargeDeclinedInsufficientFunds"


def stripe_client(mocks_url: str, secret_key: str | None = None) -> stripe.StripeClient:
    # No SDK retries: a failure should reach the test as it happened.
    return stripe.StripeClient(
        secret_key or MockCredentials().stripe_secret_key,
        base_addresses={"api": mocks_url + "/payments"},
        max_network_retries=0,
    )


@pytest.fixture
def intents(mocks_url: str) -> stripe.PaymentIntentService:
    return stripe_client(mocks_url).v1.payment_intents


def effects(ledger: LedgerReader) -> list[tuple[str, str, str | None]]:
    return [
        (e["operation"], e["resource"], e["idempotency_key"]) for e in ledger("payments")["entries"]
    ]


def was_replayed(intent: stripe.PaymentIntent) -> bool:
    assert intent.last_response is not None
    return intent.last_response.headers.get("Idempotent-Replayed") == "true"


def test_create_then_confirm_apply_once_despite_retries(
    intents: stripe.PaymentIntentService, ledger: LedgerReader
) -> None:
    order: Any = {"amount": 1999, "currency": "usd", "metadata": {"order_id": "O-1"}}
    created = intents.create(order, {"idempotency_key": "sdk-create-1"})
    assert created.status == "requires_payment_method" and not was_replayed(created)
    retried = intents.create(order, {"idempotency_key": "sdk-create-1"})
    assert retried.id == created.id and was_replayed(retried)

    card: Any = {"payment_method": "pm_card_visa"}
    paid = intents.confirm(created.id, card, {"idempotency_key": "sdk-confirm-1"})
    assert paid.status == "succeeded" and paid.metadata["order_id"] == "O-1"
    again = intents.confirm(created.id, card, {"idempotency_key": "sdk-confirm-1"})
    assert again.status == "succeeded" and was_replayed(again)

    assert effects(ledger) == [
        ("payment_intent.create", created.id, "sdk-create-1"),
        ("payment_intent.confirm", created.id, "sdk-confirm-1"),
    ]
    with pytest.raises(stripe.IdempotencyError):
        intents.create({"amount": 2000, "currency": "usd"}, {"idempotency_key": "sdk-create-1"})


def test_a_declined_card_raises_card_error_and_charges_once(
    intents: stripe.PaymentIntentService, ledger: LedgerReader
) -> None:
    intent = intents.create({"amount": 500, "currency": "usd"}, {"idempotency_key": "sdk-create-2"})
    for _ in range(2):  # the retry replays the decline rather than charging again
        with pytest.raises(stripe.CardError) as declined:
            intents.confirm(
                intent.id, {"payment_method": DECLINING_CARD}, {"idempotency_key": "sdk-declined-1"}
            )
        assert declined.value.code == "card_declined" and declined.value.http_status == 402
        assert declined.value.error is not None
        assert declined.value.error.decline_code == "insufficient_funds"
        assert declined.value.error.payment_intent is not None
        assert declined.value.error.payment_intent.status == "requires_payment_method"
    assert effects(ledger) == [
        ("payment_intent.create", intent.id, "sdk-create-2"),
        ("payment_intent.confirm", intent.id, "sdk-declined-1"),
    ]
    with pytest.raises(stripe.CardError):  # confirm=true on create declines the same way
        intents.create(
            {"amount": 500, "currency": "usd", "confirm": True, "payment_method": DECLINING_CARD}
        )


def test_invalid_requests_name_the_param_and_apply_nothing(
    intents: stripe.PaymentIntentService, ledger: LedgerReader
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        intents.create({"currency": "usd"})  # type: ignore[typeddict-item]
    assert missing.value.param == "amount"
    assert effects(ledger) == []


def test_cancel_and_auto_paging(intents: stripe.PaymentIntentService, ledger: LedgerReader) -> None:
    older = intents.create({"amount": 700, "currency": "eur"})
    fresh = intents.create({"amount": 900, "currency": "eur"})
    canceled = intents.cancel(fresh.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled"
    listed = [pi.id for pi in intents.list({"limit": 1}).auto_paging_iter()]
    assert listed == [fresh.id, older.id]
    assert [op for op, _, _ in effects(ledger)] == [
        "payment_intent.create",
        "payment_intent.create",
        "payment_intent.cancel",
    ]


def test_a_wrong_key_raises_the_sdks_authentication_error(mocks_url: str) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stripe_client(mocks_url, "sk_test_nope").v1.payment_intents.list()


def test_authorise_during_the_call_capture_after_it(
    intents: stripe.PaymentIntentService, ledger: LedgerReader, control: httpx.Client
) -> None:
    order: Any = {
        "amount": 4200,
        "currency": "usd",
        "capture_method": "manual",
        "confirm": True,
        "payment_method": "pm_card_visa",
    }
    held = intents.create(order, {"idempotency_key": "auth-1"})
    assert (held.status, held.amount_capturable, held.amount_received) == (
        "requires_capture",
        4200,
        0,
    )
    # Only the captured part is money taken; the rest of the authorisation is released.
    for _ in range(2):  # the retry replays the capture rather than capturing twice
        paid = intents.capture(held.id, {"amount_to_capture": 4000}, {"idempotency_key": "cap-1"})
        assert (paid.status, paid.amount_received, paid.amount_capturable) == ("succeeded", 4000, 0)
    assert was_replayed(paid)
    with pytest.raises(stripe.InvalidRequestError) as again:
        intents.capture(held.id)
    assert again.value.code == "payment_intent_unexpected_state"
    summary = control.get("/_mock/payments/charges").json()
    assert summary["succeeded"] == {"count": 1, "amount": 4000, "amount_by_currency": {"usd": 4000}}
    assert summary["authorized"] == {"count": 0, "amount": 0}
    assert effects(ledger) == [
        ("payment_intent.create", held.id, "auth-1"),
        ("payment_intent.capture", held.id, "cap-1"),
    ]


def test_an_authorisation_is_cancelled_or_refused_a_larger_capture(
    mocks_url: str, ledger: LedgerReader, control: httpx.Client
) -> None:
    sdk = stripe_client(mocks_url)
    intents = sdk.v1.payment_intents
    held = intents.create({"amount": 900, "currency": "eur", "capture_method": "manual"})
    held = intents.confirm(held.id, {"payment_method": "pm_card_visa"})
    assert control.get("/_mock/payments/charges").json()["authorized"] == {
        "count": 1,
        "amount": 900,
    }
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        intents.capture(held.id, {"amount_to_capture": 901})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount_to_capture")
    released = intents.cancel(held.id, {}, {"idempotency_key": "release-1"})
    assert (released.status, released.amount_capturable) == ("canceled", 0)
    charge = sdk.v1.charges.retrieve(str(released.latest_charge))
    assert (charge.captured, charge.amount_refunded, charge.refunded) == (False, 900, True)
    summary = control.get("/_mock/payments/charges").json()
    assert summary["succeeded"]["count"] == summary["authorized"]["count"] == 0
    assert [op for op, _, _ in effects(ledger)] == [
        "payment_intent.create",
        "payment_intent.confirm",
        "payment_intent.cancel",
    ]
