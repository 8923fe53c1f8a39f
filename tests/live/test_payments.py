"""The payments mock (Stripe PaymentIntents) over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials

KEY = MockCredentials().stripe_secret_key
INTENTS = "/v1/payment_intents"
VISA_NUMBER = "4242424242424242"


@pytest.fixture
def stripe_http(mocks_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=mocks_url + "/payments", headers=headers, timeout=10.0) as http:
        yield http


def create(http: httpx.Client, key: str | None = None, **form: str) -> httpx.Response:
    data = {"amount": "2500", "currency": "usd", **form}
    return http.post(INTENTS, data=data, headers={"Idempotency-Key": key} if key else {})


def card_data(number: str) -> dict[str, str]:
    return {
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": number,
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2040",
        "payment_method_data[card][cvc]": "123",
    }


def async_stripe(mocks_url: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {KEY}"}
    return httpx.AsyncClient(base_url=mocks_url + "/payments", headers=headers, timeout=5.0)


def ledger(control: httpx.Client, operation: str | None = None) -> dict[str, Any]:
    params = {"operation": operation} if operation else {}
    response = control.get("/_mock/payments/ledger", params=params)
    return dict(response.json())


def test_create_then_confirm_charges_the_card(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    created = create(stripe_http, **{"metadata[order_id]": "O-1001", "description": "Order"})
    assert created.status_code == 200, created.text
    assert created.headers["request-id"].startswith("req_")
    intent = created.json()
    assert intent["object"] == "payment_intent" and intent["id"].startswith("pi_")
    assert intent["status"] == "requires_payment_method"
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")
    assert intent["metadata"] == {"order_id": "O-1001"} and intent["livemode"] is False

    confirmed = stripe_http.post(
        f"{INTENTS}/{intent['id']}/confirm", data={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "succeeded" and body["amount_received"] == 2500
    assert body["latest_charge"].startswith("ch_") and body["payment_method"].startswith("pm_")
    assert stripe_http.get(f"{INTENTS}/{intent['id']}").json() == body
    charge = stripe_http.get(f"/v1/charges/{body['latest_charge']}").json()
    assert charge["status"] == "succeeded" and charge["payment_intent"] == intent["id"]
    summary = control.get("/_mock/payments/charges").json()
    assert summary["succeeded"] == {"count": 1, "amount": 2500, "amount_by_currency": {"usd": 2500}}
    assert [e["operation"] for e in ledger(control)["entries"]] == [
        "payment_intent.create",
        "payment_intent.confirm",
    ]


def test_confirm_true_on_create_settles_in_one_call(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    response = create(stripe_http, "order-7", confirm="true", payment_method="pm_card_mastercard")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    entries = ledger(control)["entries"]
    assert len(entries) == 1  # one request, one entry: the key is not a "duplicate"
    assert entries[0]["idempotency_key"] == "order-7"
    assert entries[0]["detail"]["outcome"] == "succeeded"
    assert entries[0]["detail"]["card_brand"] == "mastercard"


@pytest.mark.parametrize(
    ("method", "decline_code", "message"),
    [
        (
            {"payment_method": "pm_card_chargeDeclined"},
            "generic_decline",
            "Your card was declined.",
        ),
        (
            {"payment_method": "pm_card_visa_chargeDeclined"},
            "generic_decline",
            "Your card was declined.",
        ),
        (
            {"payment_method": "pm_card_chargeDeclinedInsufficientFunds"},
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        (card_data("4000000000000002"), "generic_decline", "Your card was declined."),
        (card_data("4000000000009995"), "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_declined_cards_answer_402_with_the_intent(
    stripe_http: httpx.Client,
    control: httpx.Client,
    method: dict[str, str],
    decline_code: str,
    message: str,
) -> None:
    response = create(stripe_http, confirm="true", **method)
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        decline_code,
    )
    assert error["message"] == message and error["charge"].startswith("ch_")
    intent = error["payment_intent"]
    assert intent["status"] == "requires_payment_method" and intent["payment_method"] is None
    assert intent["last_payment_error"]["decline_code"] == decline_code
    # The caller can try another card on the same intent.
    retry = stripe_http.post(
        f"{INTENTS}/{intent['id']}/confirm", data={"payment_method": "pm_card_visa"}
    )
    assert retry.json()["status"] == "succeeded"
    summary = control.get("/_mock/payments/charges").json()
    assert summary["failed"] == {"count": 1, "by_decline_code": {decline_code: 1}}
    assert summary["succeeded"]["count"] == 1


def test_a_card_number_is_never_echoed_or_recorded(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    seen = [create(stripe_http, "pan-1", confirm="true", **card_data(VISA_NUMBER))]
    assert seen[0].status_code == 200, seen[0].text
    intent = seen[0].json()
    seen.append(create(stripe_http, confirm="true", **card_data("4000000000009995")))
    seen.append(create(stripe_http, "pan-1", confirm="true", **card_data(VISA_NUMBER)))  # replay
    seen.append(create(stripe_http, **card_data("4242424242424241")))  # fails the Luhn check
    assert seen[-1].status_code == 402 and seen[-1].json()["error"]["code"] == "incorrect_number"
    seen += [
        stripe_http.get(f"{INTENTS}/{intent['id']}"),
        stripe_http.get(INTENTS),
        stripe_http.get(f"/v1/payment_methods/{intent['payment_method']}"),
        stripe_http.get(f"/v1/charges/{intent['latest_charge']}"),
        control.get("/_mock/payments/ledger"),
        control.get("/_mock/payments/charges"),
    ]
    for response in seen:
        assert VISA_NUMBER not in response.text and "400000000000999" not in response.text
        assert "424242424242424" not in response.text
    card = seen[6].json()["card"]
    assert (card["brand"], card["last4"]) == ("visa", "4242")


def test_same_key_same_params_replays_without_applying_again(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    first = create(stripe_http, "pay-42", confirm="true", payment_method="pm_card_visa")
    second = create(stripe_http, "pay-42", confirm="true", payment_method="pm_card_visa")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["original-request"] == first.headers["request-id"]
    assert second.headers["request-id"] != first.headers["request-id"]
    assert ledger(control)["count"] == 1
    assert control.get("/_mock/payments/charges").json()["succeeded"]["count"] == 1


def test_same_key_other_params_is_an_idempotency_error(stripe_http: httpx.Client) -> None:
    assert create(stripe_http, "pay-43", amount="1000").status_code == 200
    response = create(stripe_http, "pay-43", amount="1001")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the "
        "same parameters they were first used with"
    )


def test_a_request_refused_for_its_parameters_leaves_the_key_free(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    assert create(stripe_http, "pay-44", amount="ten").status_code == 400
    fixed = create(stripe_http, "pay-44", amount="1000")
    assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers
    assert ledger(control)["count"] == 1


def test_concurrent_requests_with_one_key_get_409(mocks_url: str, control: httpx.Client) -> None:
    control.put("/_mock/payments/config", json={"processing_delay_s": 0.3}).raise_for_status()
    form = {"amount": "900", "currency": "usd", "confirm": "true", "payment_method": "pm_card_visa"}

    async def race() -> list[httpx.Response]:
        async with async_stripe(mocks_url) as http:
            headers = {"Idempotency-Key": "race-1"}
            both = [http.post(INTENTS, data=form, headers=headers) for _ in range(2)]
            return list(await asyncio.gather(*both))

    responses = sorted(asyncio.run(race()), key=lambda r: r.status_code)
    assert [r.status_code for r in responses] == [200, 409]
    error = responses[1].json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert ledger(control)["count"] == 1
    assert control.get("/_mock/payments/charges").json()["succeeded"]["count"] == 1


def test_an_intent_is_processing_while_the_card_network_answers(
    stripe_http: httpx.Client, mocks_url: str, control: httpx.Client
) -> None:
    intent = create(stripe_http, payment_method="pm_card_visa").json()
    control.put("/_mock/payments/config", json={"processing_delay_s": 0.3}).raise_for_status()
    confirm = f"{INTENTS}/{intent['id']}/confirm"

    async def peek() -> tuple[httpx.Response, ...]:
        async with async_stripe(mocks_url) as http:
            first = asyncio.create_task(http.post(confirm, headers={"Idempotency-Key": "a"}))
            await asyncio.sleep(0.1)
            during = await http.get(f"{INTENTS}/{intent['id']}")
            other_key = await http.post(confirm, headers={"Idempotency-Key": "b"})
            return during, other_key, await first

    during, other_key, done = asyncio.run(peek())
    assert during.json()["status"] == "processing"
    assert other_key.json()["error"]["code"] == "payment_intent_unexpected_state"
    assert done.json()["status"] == "succeeded"


def test_config_changes_need_the_control_token(client: httpx.Client) -> None:
    response = client.put("/_mock/payments/config", json={"processing_delay_s": 1})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("first", "then", "status_in_message"),
    [
        ("cancel", "confirm", "canceled"),
        ("confirm", "cancel", "succeeded"),
        ("cancel", "cancel", "canceled"),
    ],
)
def test_illegal_transitions_are_refused(
    stripe_http: httpx.Client, first: str, then: str, status_in_message: str
) -> None:
    intent = create(stripe_http, payment_method="pm_card_visa").json()
    assert stripe_http.post(f"{INTENTS}/{intent['id']}/{first}").status_code == 200
    response = stripe_http.post(f"{INTENTS}/{intent['id']}/{then}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"]) == (
        "invalid_request_error",
        "payment_intent_unexpected_state",
    )
    assert status_in_message in error["message"]
    assert error["payment_intent"]["status"] == status_in_message


def test_update_merges_metadata_and_freezes_the_amount_once_paid(
    stripe_http: httpx.Client, control: httpx.Client
) -> None:
    intent = create(stripe_http, **{"metadata[a]": "1", "metadata[b]": "2"}).json()
    url = f"{INTENTS}/{intent['id']}"
    updated = stripe_http.post(url, data={"amount": "3000", "metadata[b]": "", "metadata[c]": "3"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["amount"] == 3000 and updated.json()["metadata"] == {"a": "1", "c": "3"}
    stripe_http.post(f"{url}/confirm", data={"payment_method": "pm_card_visa"}).raise_for_status()
    refused = stripe_http.post(url, data={"amount": "10"})
    assert refused.json()["error"]["code"] == "payment_intent_unexpected_state"
    assert stripe_http.post(url, data={"metadata[note]": "late"}).status_code == 200
    assert len(ledger(control, "payment_intent.update")["entries"]) == 2


@pytest.mark.parametrize(
    ("form", "status", "code", "param"),
    [
        ({"amount": None}, 400, "parameter_missing", "amount"),
        ({"currency": None}, 400, "parameter_missing", "currency"),
        ({"amount": "12.5"}, 400, "parameter_invalid_integer", "amount"),
        ({"amount": ""}, 400, "parameter_invalid_empty", "amount"),
        ({"amount": "10"}, 400, "amount_too_small", "amount"),
        ({"colour": "red"}, 400, "parameter_unknown", "colour"),
        ({"currency": "xyz"}, 400, None, "currency"),
        ({"payment_method": "pm_missing"}, 400, "resource_missing", "payment_method"),
        (
            {**card_data(VISA_NUMBER), "payment_method_data[card][exp_month]": None},
            400,
            "parameter_missing",
            "payment_method_data[card][exp_month]",
        ),
        (
            {**card_data(VISA_NUMBER), "payment_method_data[card][exp_year]": "2001"},
            402,
            "invalid_expiry_year",
            "payment_method_data[card][exp_year]",
        ),
    ],
)
def test_bad_parameters_are_named(
    stripe_http: httpx.Client,
    form: dict[str, str | None],
    status: int,
    code: str | None,
    param: str,
) -> None:
    data = {k: v for k, v in {"amount": "2500", "currency": "usd", **form}.items() if v is not None}
    response = stripe_http.post(INTENTS, data=data)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.get("code") == code and error["param"] == param
    assert error["type"] == ("card_error" if status == 402 else "invalid_request_error")


def test_unknown_objects_and_urls_answer_stripes_404(stripe_http: httpx.Client) -> None:
    missing = stripe_http.get(f"{INTENTS}/pi_nothing").json()["error"]
    assert (missing["code"], missing["param"]) == ("resource_missing", "intent")
    assert missing["message"].startswith("No such payment_intent: ")
    assert "pi_nothing" not in missing["message"]  # named by its param, never repeated
    assert stripe_http.post(f"{INTENTS}/pi_nothing/cancel").status_code == 404
    stray = stripe_http.get("/v1/refunds")
    assert stray.status_code == 404
    message = stray.json()["error"]["message"]
    assert message.startswith("Unrecognized request URL (GET)") and "/v1/refunds" not in message


def test_list_pages_newest_first(stripe_http: httpx.Client) -> None:
    made = [create(stripe_http, amount=str(1000 + i)).json()["id"] for i in range(5)]
    first = stripe_http.get(INTENTS, params={"limit": 2}).json()
    assert first["object"] == "list" and first["url"] == "/v1/payment_intents"
    seen, page = [], first
    while True:
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            break
        page = stripe_http.get(INTENTS, params={"limit": 2, "starting_after": seen[-1]}).json()
    assert seen == made[::-1]
    back = stripe_http.get(INTENTS, params={"limit": 2, "ending_before": made[0]}).json()
    assert [i["id"] for i in back["data"]] == [made[2], made[1]] and back["has_more"] is True
    bad = stripe_http.get(INTENTS, params={"limit": 101}).json()["error"]
    assert bad["param"] == "limit"


def test_authentication_like_stripe(mocks_url: str) -> None:
    url = mocks_url + "/payments" + INTENTS
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("You did not provide an API key")
    wrong = httpx.get(url, headers={"Authorization": "Bearer sk_test_wrongwrongwrong1234"})
    assert wrong.status_code == 401
    error = wrong.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid API Key provided: sk_test_****")
    assert error["message"].endswith("1234") and "wrongwrong" not in error["message"]
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    assert httpx.get(url, headers={"Authorization": f"Basic {basic}"}).status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [
        ("503", 503, "api_error"),
        ("500", 500, "api_error"),
        ("429", 429, "rate_limit_error"),
        ("401", 401, "invalid_request_error"),
    ],
)
def test_injected_faults_speak_stripe(
    stripe_http: httpx.Client, control: httpx.Client, kind: str, status: int, error_type: str
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {kind: 1}}}
    control.put("/_chaos/systems/payments", json=profile).raise_for_status()
    response = create(stripe_http, "chaos-1", confirm="true", payment_method="pm_card_visa")
    assert response.status_code == status
    assert response.headers["x-injected-fault"] == kind
    error = response.json()["error"]
    assert error["type"] == error_type and error["message"]
    if status in (429, 401):
        assert error["code"] == {429: "rate_limit", 401: "api_key_expired"}[status]
    assert ledger(control)["count"] == 0


def test_bracket_arrays_and_json_bodies(stripe_http: httpx.Client) -> None:
    ok = create(stripe_http, **{"payment_method_types[0]": "card"})
    assert ok.json()["payment_method_types"] == ["card"]
    as_json = stripe_http.post(
        INTENTS, content=json.dumps({"amount": 100}), headers={"Content-Type": "application/json"}
    )
    assert as_json.status_code == 400 and "form-urlencoded" in as_json.json()["error"]["message"]
    clash = create(stripe_http, **{"metadata": "x", "metadata[a]": "1"})
    assert clash.status_code == 400 and clash.json()["error"]["param"] == "metadata[a]"
