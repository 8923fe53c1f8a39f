"""The planner: one effect per part of an outcome, in the shape the delivery handlers read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet

from integration.errors import InvalidInput, InvalidPhoneNumber
from integration.outbox.model import resolve_placeholders
from integration.outbox.outcome import CallOutcome
from integration.outbox.plan import Plan, plan_effects
from integration.outbox.vault import CardVault

VAULT = CardVault(Fernet.generate_key())
NOW = datetime(2030, 4, 30, 18, 0, tzinfo=UTC)
CARD = {"number": "5555-5555-5555-4444", "exp_month": 7, "exp_year": 2031}
BOOKING = {
    "start": "2030-05-01T15:00:00+00:00",
    "end": "2030-05-01T15:30:00+00:00",
    "summary": "Mortgage review",
    "attendee_email": "ada@example.com",
}


def plan(
    body: dict[str, Any], *, contact_id: str | None = "003A", customer_id: str | None = "C1"
) -> Plan:
    return plan_effects(
        "call-1",
        CallOutcome.model_validate(body),
        phone="+14155550100",
        customer_id=customer_id,
        contact_id=contact_id,
        vault=VAULT,
        now=NOW,
    )


def by_name(p: Plan) -> dict[str, Any]:
    return {e.name: e for e in p.effects}


def test_every_part_becomes_its_effect_with_the_handlers_payload() -> None:
    p = plan(
        {
            "disposition": "booked",
            "summary": "Booked a review.",
            "lead": {"lead_id": "00Q9", "status": "Qualified"},
            "booking": BOOKING,
            "payment": {"amount": 1999, "payment_method": "pm_card_visa"},
            "messages": [
                {"channel": "sms", "to": "(415) 555-0123"},
                {"channel": "email", "to": "ada@example.com", "subject": "See you", "text": "Hi"},
            ],
            "slack": {"channel": "#voice-agent", "text": "booked"},
            "loan": {"application_id": "LA-7", "stage": "underwriting"},
            "callback": {"at": "2030-05-02T09:00:00-04:00", "reason": "wants a human"},
        }
    )
    effects = by_name(p)
    assert list(effects) == [
        "lead",
        "booking",
        "payment",
        "message_1",
        "message_2",
        "slack",
        "loan",
        "callback",
        "call_log",
        "analytics",
    ]
    shape = {n: (e.system, e.kind) for n, e in effects.items()}
    assert shape == {
        "lead": ("crm", "crm.update_lead"),
        "booking": ("calendar", "calendar.insert_event"),
        "payment": ("payments", "payments.charge"),
        "message_1": ("messaging", "messaging.send"),
        "message_2": ("email", "email.send"),
        "slack": ("slack", "slack.post_message"),
        "loan": ("loans", "loans.advance_stage"),
        "callback": ("crm", "crm.create_task"),
        "call_log": ("crm", "crm.create_task"),
        "analytics": ("analytics", "analytics.track"),
    }
    assert effects["lead"].payload == {"lead_id": "00Q9", "fields": {"Status": "Qualified"}}
    assert effects["booking"].payload == {
        "calendar_id": "primary",
        "start": "2030-05-01T15:00:00+00:00",
        "end": "2030-05-01T15:30:00+00:00",
        "summary": "Mortgage review",
        "attendee_email": "ada@example.com",
    }
    assert effects["payment"].payload == {
        "amount": 1999,
        "currency": "usd",
        "card_sealed": None,
        "payment_method": "pm_card_visa",
        "last4": None,
        "metadata": {"call_id": "call-1"},
    }
    assert effects["message_1"].payload["to"] == "+14155550123"  # normalised to E.164
    assert set(effects["message_1"].payload) == {"channel", "to", "body"}
    assert effects["message_2"].payload == {
        "to": "ada@example.com",
        "subject": "See you",
        "text": "Hi",
    }
    assert effects["slack"].payload == {"channel": "#voice-agent", "text": "booked"}
    assert effects["loan"].payload == {"application_id": "LA-7", "stage": "underwriting"}
    callback = effects["callback"].payload["fields"]
    assert callback["WhoId"] == "003A" and callback["ActivityDate"] == "2030-05-02"
    assert "2030-05-02T13:00:00+00:00" in callback["Description"]
    assert callback["Status"] == "Not Started"
    log = effects["call_log"].payload["fields"]
    assert log == {
        "Subject": "Voice call",
        "Description": "Disposition: booked\n\nBooked a review.",
        "WhoId": "003A",
        "ActivityDate": "2030-04-30",
        "Status": "Completed",
        "Priority": "Normal",
    }
    analytics = effects["analytics"].payload
    assert analytics["user_id"] == "C1" and analytics["event"] == "Call Ended"
    assert analytics["properties"]["disposition"] == "booked"
    assert analytics["properties"]["effects"] == list(effects)[:-1]
    assert p.manual_payment is None
    json.dumps([e.payload for e in p.effects])  # every payload is JSON


def test_messages_wait_for_the_booking_and_quote_it_by_default() -> None:
    effects = by_name(
        plan(
            {
                "booking": BOOKING,
                "messages": [
                    {"channel": "whatsapp", "to": "whatsapp:+447911123456"},
                    {"channel": "email", "to": "ada@example.com"},
                ],
            }
        )
    )
    sms, email = effects["message_1"], effects["message_2"]
    assert sms.depends_on == ("booking",) and email.depends_on == ("booking",)
    assert "${booking.start}" in sms.payload["body"] and "${booking.id}" in sms.payload["body"]
    assert "${booking.id}" in email.payload["text"] and email.payload["subject"]
    booked = {"booking": {"id": "evt_1", "start": "2030-05-01T15:00:00Z"}}
    body = resolve_placeholders(sms.payload, booked)["body"]
    assert "evt_1" in body and "2030-05-01T15:00:00Z" in body and "${" not in body
    assert effects["booking"].depends_on == ()


def test_without_a_booking_messages_stand_alone() -> None:
    effects = by_name(plan({"messages": [{"channel": "sms", "to": "+14155550123"}]}))
    assert effects["message_1"].depends_on == ()
    assert "${" not in effects["message_1"].payload["body"]


def test_a_bad_phone_number_names_its_message() -> None:
    body = {
        "messages": [
            {"channel": "email", "to": "ada@example.com"},
            {"channel": "sms", "to": "call me maybe"},
        ]
    }
    with pytest.raises(InvalidPhoneNumber) as caught:
        plan(body)
    assert caught.value.field == "messages[1].to"


def test_a_placeholder_nothing_can_fill_is_refused_now() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan({"slack": {"channel": "#x", "text": "see ${booking.id}"}, "booking": BOOKING})
    assert caught.value.field == "slack.text"
    with pytest.raises(InvalidInput) as caught:
        plan(
            {"messages": [{"channel": "sms", "to": "+14155550123", "text": "at ${booking.start}"}]}
        )
    assert caught.value.field == "messages[0].text"
    # After a booking, a message may quote it in its own words.
    quoted = plan(
        {
            "booking": BOOKING,
            "messages": [{"channel": "sms", "to": "+14155550123", "text": "Ref ${booking.id}"}],
        }
    )
    assert by_name(quoted)["message_1"].payload["body"] == "Ref ${booking.id}"


def test_a_live_card_is_sealed_into_the_charge() -> None:
    p = plan({"payment": {"amount": 2500, "card": CARD}})
    payment = by_name(p)["payment"].payload
    assert payment["last4"] == "4444" and payment["payment_method"] is None
    assert VAULT.open(payment["card_sealed"]) == {
        "number": "5555555555554444",
        "exp_month": 7,
        "exp_year": 2031,
    }
    assert "5555555555554444" not in json.dumps([e.payload for e in p.effects])
    assert p.manual_payment is None


def test_a_manual_payment_is_held_in_the_vault_with_a_task_and_no_charge() -> None:
    p = plan({"payment": {"amount": 2500, "card": CARD, "manual": True}})
    effects = by_name(p)
    assert "payment" not in effects
    assert not [e for e in p.effects if e.kind == "payments.charge"]
    task = effects["payment_callback"]
    assert (task.system, task.kind) == ("crm", "crm.create_task")
    fields = task.payload["fields"]
    assert "4444" in fields["Description"] and "25.00 USD" in fields["Description"]
    assert fields["WhoId"] == "003A" and fields["Priority"] == "High"
    text = json.dumps([e.payload for e in p.effects])
    assert "5555555555554444" not in text and "5555-5555" not in text
    manual = p.manual_payment
    assert manual is not None
    assert (manual.call_id, manual.last4, manual.brand) == ("call-1", "4444", "mastercard")
    assert (manual.amount, manual.currency) == (2500, "usd")
    assert VAULT.open(manual.token)["number"] == "5555555555554444"
    assert manual.token not in text  # the sealed card goes to the vault table only


def test_unknown_caller_gets_no_call_log_and_is_tracked_by_phone() -> None:
    effects = by_name(plan({"summary": "hi"}, contact_id=None, customer_id=None))
    assert list(effects) == ["analytics"]
    assert effects["analytics"].payload["user_id"] == "+14155550100"
    assert effects["analytics"].payload["properties"]["effects"] == []


def test_a_callback_for_a_lead_without_a_contact_names_the_lead() -> None:
    body = {
        "lead": {"lead_id": "00Q5", "status": "Working - Contacted"},
        "callback": {"at": "2030-05-02T09:00:00+00:00", "reason": "later"},
    }
    fields = by_name(plan(body, contact_id=None))["callback"].payload["fields"]
    assert fields["WhoId"] == "00Q5"
    alone = by_name(plan({"callback": body["callback"]}, contact_id=None))["callback"]
    assert "WhoId" not in alone.payload["fields"]


def test_whatsapp_numbers_lose_twilios_prefix() -> None:
    body = {"messages": [{"channel": "whatsapp", "to": "whatsapp:+447911123456"}]}
    assert by_name(plan(body))["message_1"].payload["to"] == "+447911123456"
