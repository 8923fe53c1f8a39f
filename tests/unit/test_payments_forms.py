"""Stripe's bracket form notation and test-card rules, without a server."""

from __future__ import annotations

import pytest

from mocks.payments._forms import FormConflict, as_list, parse_form
from mocks.payments.cards import card_for_number, card_for_token, card_number_error
from mocks.payments.errors import StripeError
from mocks.payments.params import parse_create


def test_brackets_nest_and_arrays_append() -> None:
    form = parse_form(
        [
            ("amount", "100"),
            ("metadata[order_id]", "O-1"),
            ("payment_method_data[card][number]", "4242"),
            ("payment_method_types[]", "card"),
            ("payment_method_types[]", "link"),
            ("expand[0]", "latest_charge"),
        ]
    )
    assert form["metadata"] == {"order_id": "O-1"}
    assert form["payment_method_data"] == {"card": {"number": "4242"}}
    assert form["payment_method_types"] == ["card", "link"]
    assert as_list(form["expand"]) == ["latest_charge"]
    assert as_list({"a": "x"}) is None


def test_a_key_used_as_value_and_hash_is_refused() -> None:
    with pytest.raises(FormConflict) as conflict:
        parse_form([("metadata[a]", "1"), ("metadata", "x")])
    assert conflict.value.key == "metadata"


def test_unbalanced_brackets_stay_one_literal_key() -> None:
    assert parse_form([("odd[key", "1")]) == {"odd[key": "1"}


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4242424242424241", "incorrect_number"),
        ("4242-4242", "invalid_number"),
        ("42", "invalid_number"),
    ],
)
def test_bad_numbers_are_card_errors_that_do_not_repeat_the_number(number: str, code: str) -> None:
    error = card_number_error(number, "payment_method_data[card][number]")
    assert error is not None and error.status == 402 and error.code == code
    assert number not in str(error.body())


def test_test_cards_keep_only_brand_and_last4() -> None:
    visa = card_for_number("4242424242424242")
    assert (visa.brand, visa.last4, visa.decline) == ("visa", "4242", None)
    assert card_for_number("378282246310005").brand == "amex"
    assert card_for_number("4000000000009995").decline is not None
    live = card_for_number("4111111111111111")  # valid, but not a Stripe test number
    assert live.decline is not None and live.decline.decline_code == "test_mode_live_card"
    token = card_for_token("pm_card_visa_chargeDeclinedInsufficientFunds")
    assert token is not None and token.decline is not None
    assert token.decline.decline_code == "insufficient_funds"
    assert card_for_token("pm_card_unheard_of") is None


def test_payment_method_data_is_reduced_to_the_card() -> None:
    params = parse_create(
        parse_form(
            [
                ("amount", "500"),
                ("currency", "USD"),
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][number]", "4242 4242 4242 4242"),
                ("payment_method_data[card][exp_month]", "1"),
                ("payment_method_data[card][exp_year]", "2031"),
            ]
        ),
        now=lambda: 1_700_000_000.0,
    )
    assert params.currency == "usd"
    assert "4242424242424242" not in repr(params)


def test_an_expired_card_names_the_field() -> None:
    form = parse_form(
        [
            ("amount", "500"),
            ("currency", "usd"),
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", "4242424242424242"),
            ("payment_method_data[card][exp_month]", "1"),
            ("payment_method_data[card][exp_year]", "2023"),
        ]
    )
    with pytest.raises(StripeError) as expired:
        parse_create(form, now=lambda: 1_700_000_000.0)  # November 2023
    assert expired.value.param == "payment_method_data[card][exp_month]"
    assert expired.value.code == "invalid_expiry_month"
