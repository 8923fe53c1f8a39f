"""The call outcome model: strict validation, errors that never echo a card, fingerprints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from integration.outbox.outcome import (
    CallOutcome,
    outcome_fingerprint,
    redacted_outcome,
    safe_errors,
)

CARD: dict[str, Any] = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030}
DIGITS = "4242424242424242"
BOOKING: dict[str, Any] = {
    "start": "2030-05-01T15:00:00+00:00",
    "end": "2030-05-01T15:30:00+00:00",
    "summary": "x",
}


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        CallOutcome.model_validate(body)
    return safe_errors(caught.value)


def locs(body: dict[str, Any]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in errors_of(body)]


def test_an_empty_outcome_is_a_resolved_call_with_no_parts() -> None:
    outcome = CallOutcome.model_validate({})
    assert outcome.disposition == "resolved"
    assert outcome.messages == [] and outcome.payment is None and outcome.booking is None


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"colour": "blue"}, "colour"),
        ({"lead": {"lead_id": "00Q1", "status": "Qualified", "extra": 1}}, "lead.extra"),
        ({"lead": {"lead_id": "00Q1", "status": "Hot"}}, "lead.status"),
        ({"disposition": "maybe"}, "disposition"),
        ({"summary": "s" * 2001}, "summary"),
        ({"loan": {"application_id": "LA1", "stage": "submitted"}}, "loan.stage"),
        ({"callback": {"at": "2030-05-01T15:00:00", "reason": "r"}}, "callback.at"),
        ({"booking": {**BOOKING, "start": "2030-05-01T15:00:00"}}, "booking.start"),
        ({"booking": {**BOOKING, "end": BOOKING["start"]}}, "booking"),
        ({"booking": {**BOOKING, "attendee_email": "nobody"}}, "booking.attendee_email"),
        ({"messages": [{"channel": "sms", "to": "+14155550123"}] * 11}, "messages"),
        (
            {"messages": [{"channel": "sms", "to": "+14155550123", "text": "t" * 1601}]},
            "messages.0.text",
        ),
        ({"messages": [{"channel": "email", "to": "not-an-address"}]}, "messages.0.to"),
        ({"messages": [{"channel": "sms", "to": "+14155550123", "subject": "s"}]}, "messages.0"),
        ({"messages": [{"channel": "fax", "to": "+14155550123"}]}, "messages.0.channel"),
        ({"slack": {"channel": "#x", "text": ""}}, "slack.text"),
    ],
)
def test_each_mistake_is_refused_where_it_is(body: dict[str, Any], where: str) -> None:
    assert where in locs(body)


def test_the_booking_end_must_follow_its_start() -> None:
    [error] = errors_of({"booking": {**BOOKING, "end": "2030-05-01T14:00:00+00:00"}})
    assert "end must be after its start" in error["msg"]


@pytest.mark.parametrize(
    ("payment", "words"),
    [
        ({"amount": 100}, "exactly one of card or payment_method"),
        ({"amount": 100, "card": CARD, "payment_method": "pm_card_visa"}, "exactly one"),
        ({"amount": 100, "manual": True}, "manual payment needs the card"),
        ({"amount": 100, "manual": True, "card": CARD, "payment_method": "pm_card_visa"}, "not a"),
        ({"amount": 0, "payment_method": "pm_card_visa"}, "greater than 0"),
        ({"amount": 100, "currency": "eur", "payment_method": "pm_card_visa"}, "'usd'"),
    ],
)
def test_payment_rules(payment: dict[str, Any], words: str) -> None:
    errors = errors_of({"payment": payment})
    assert any(words in e["msg"] for e in errors), errors
    assert DIGITS not in json.dumps(errors)


def test_good_payments_are_accepted() -> None:
    live = CallOutcome.model_validate({"payment": {"amount": 100, "card": CARD}})
    assert live.payment is not None and live.payment.card is not None
    assert live.payment.card.last4 == "4242"
    method = CallOutcome.model_validate(
        {"payment": {"amount": 1, "payment_method": "pm_card_visa"}}
    )
    assert method.payment is not None and method.payment.payment_method == "pm_card_visa"
    manual = CallOutcome.model_validate({"payment": {"amount": 5, "card": CARD, "manual": True}})
    assert manual.payment is not None and manual.payment.manual


def test_no_error_ever_carries_the_card_number() -> None:
    wrong_digit = {**CARD, "number": "4242 4242 4242 4241"}
    bodies = [
        {"payment": {"amount": 100, "card": wrong_digit}},
        {"payment": {"amount": 100, "card": CARD, "payment_method": "pm_card_visa"}},
        {"payment": {"amount": 100, "card": {**CARD, "exp_month": 13}}},
        {"payment": {"amount": 100, "card": {**CARD, "cvc": "123"}}},
    ]
    for body in bodies:
        with pytest.raises(ValidationError) as caught:
            CallOutcome.model_validate(body)
        assert "4242" not in str(caught.value)  # pydantic's own text hides the input too
        safe = safe_errors(caught.value)
        assert safe and "4242 4242" not in json.dumps(safe) and "42424242" not in json.dumps(safe)
        # FastAPI's request errors carry the raw input as well; they clean up the same way.
        raw = RequestValidationError(caught.value.errors())
        assert "4242 4242" not in json.dumps(safe_errors(raw))


def test_errors_name_the_field_and_never_carry_any_input() -> None:
    [error] = errors_of({"lead": {"lead_id": "00Q1", "status": "Hot"}})
    assert error["loc"] == ["lead", "status"] and set(error) == {"type", "loc", "msg"}
    assert "Hot" not in json.dumps(error)
    json.dumps(errors_of({"payment": {"amount": 100, "card": CARD, "payment_method": "pm_x"}}))


def test_the_fingerprint_ignores_notation_and_tells_outcomes_apart() -> None:
    base: dict[str, Any] = {
        "disposition": "booked",
        "booking": BOOKING,
        "payment": {"amount": 1999, "card": CARD},
        "messages": [{"channel": "sms", "to": "+14155550123"}],
    }
    same: dict[str, Any] = {
        **base,
        "booking": {**BOOKING, "start": "2030-05-01T17:00:00+02:00", "end": "2030-05-01T15:30:00Z"},
        "payment": {"amount": 1999, "card": {**CARD, "number": DIGITS}, "currency": "usd"},
    }
    first = outcome_fingerprint(CallOutcome.model_validate(base))
    assert first == outcome_fingerprint(CallOutcome.model_validate(same))
    other = {**base, "payment": {"amount": 2000, "card": CARD}}
    assert first != outcome_fingerprint(CallOutcome.model_validate(other))
    assert len(first) == 64


def test_the_redacted_outcome_keeps_last4_but_never_the_number() -> None:
    outcome = CallOutcome.model_validate({"payment": {"amount": 5, "card": CARD, "manual": True}})
    redacted = redacted_outcome(outcome)
    text = json.dumps(redacted)
    assert DIGITS not in text and "4242 4242" not in text
    assert redacted["payment"]["card"] == {
        "number": "sealed:visa:4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
