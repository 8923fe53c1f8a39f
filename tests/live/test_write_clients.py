"""The write path's vendor clients and delivery handlers against the real mock enterprise.

Every kind is sent twice under one key and must be applied once (the vendors' ledgers
count it); each refusal and fault must come back as the error kind the dispatcher reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from integration.clients import SalesforceClient, WriteClients, build_write_clients
from integration.errors import Rejected, SourceRateLimited, SourceUnavailable
from integration.outbox.deliveries import DELIVERIES, SYSTEM_OF_KIND, DeliveryContext
from integration.policies.executor import Attempt
from integration.settings import IntegrationSettings
from integration.transports.base import Transport
from mocks.registry import MockEnterprise

VISA = "4242424242424242"
INSUFFICIENT_FUNDS = "4000000000009995"  # mocks/payments/cards.py: decline_code insufficient_funds
TEAM_CHANNEL = "#voice-agent"


class FakeVault:
    """The vault's ``open`` protocol: sealed token in, card out (here a dict lookup)."""

    def __init__(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}

    def seal(self, number: str) -> str:
        token = f"sealed-{len(self.cards)}"
        self.cards[token] = {"number": number, "exp_month": 12, "exp_year": _next_year() + 2}
        return token

    def open(self, token: str) -> dict[str, Any]:
        if token not in self.cards:
            raise ValueError("the sealed card cannot be opened with this vault key")
        return dict(self.cards[token])


def _next_year() -> int:
    return datetime.now(UTC).year + 1


def attempt() -> Attempt:
    return Attempt(number=1, timeout_s=5)


@pytest.fixture
async def clients(transport: Transport, mocks_url: str) -> AsyncIterator[WriteClients]:
    settings = IntegrationSettings(mocks_url=mocks_url)
    crm = SalesforceClient(transport, f"{mocks_url}/crm", settings.credentials)
    yield build_write_clients(settings, transport, crm)
    await crm.aclose()


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def ctx(clients: WriteClients, vault: FakeVault) -> DeliveryContext:
    return DeliveryContext(clients=clients, open_card=vault.open)


async def ledger(chaos: httpx.AsyncClient, system: str) -> dict[str, Any]:
    response = await chaos.get(f"/_mock/{system}/ledger")
    response.raise_for_status()
    return response.json()


async def set_faults(chaos: httpx.AsyncClient, system: str, profile: dict[str, Any]) -> None:
    response = await chaos.put(f"/_chaos/systems/{system}", json=profile)
    assert response.status_code == 200, response.text


def free_slot(days_ahead: int = 3) -> tuple[str, str]:
    """07:00-07:30 New York time: before any seeded booking, so free after a reset."""
    day = (datetime.now(UTC) + timedelta(days=days_ahead)).date()
    start = datetime(day.year, day.month, day.day, 7, tzinfo=ZoneInfo("America/New_York"))
    return start.isoformat(), (start + timedelta(minutes=30)).isoformat()


# -- one payload per kind ------------------------------------------------------------------

Payloads = Callable[[MockEnterprise, FakeVault], dict[str, Any]]


def _lead_id(enterprise: MockEnterprise) -> str:
    return next(
        lead.id for lead in enterprise.context.dataset.crm_leads if lead.status != "Qualified"
    )


def _submitted_application(enterprise: MockEnterprise) -> str:
    return next(
        loan.loan_id for loan in enterprise.context.dataset.loans if loan.stage == "submitted"
    )


def _customer(enterprise: MockEnterprise) -> Any:
    return next(c for c in enterprise.context.dataset.customers if c.email)


PAYLOADS: dict[str, Payloads] = {
    "crm.update_lead": lambda e, v: {
        "lead_id": _lead_id(e),
        "fields": {"Status": "Working - Contacted"},
    },
    "crm.create_task": lambda e, v: {
        "fields": {
            "Subject": "Voice call",
            "Description": "Asked about rates",
            "Status": "Completed",
        },
    },
    "calendar.insert_event": lambda e, v: {
        "calendar_id": "primary",
        "start": free_slot()[0],
        "end": free_slot()[1],
        "summary": "Loan consultation",
        "attendee_email": _customer(e).email,
    },
    "messaging.send": lambda e, v: {
        "channel": "sms",
        "to": _customer(e).phone_e164,
        "body": "Your booking is confirmed.",
    },
    "email.send": lambda e, v: {
        "to": _customer(e).email,
        "subject": "Your booking",
        "text": "See you on Tuesday.",
    },
    "slack.post_message": lambda e, v: {"channel": TEAM_CHANNEL, "text": "Call resolved."},
    "analytics.track": lambda e, v: {
        "user_id": _customer(e).customer_id,
        "event": "Call Ended",
        "properties": {"disposition": "resolved"},
    },
    "payments.charge": lambda e, v: {
        "amount": 2500,
        "currency": "usd",
        "card_sealed": v.seal(VISA),
        "payment_method": None,
        "last4": VISA[-4:],
        "metadata": {"call_id": "call-1"},
    },
    "loans.advance_stage": lambda e, v: {
        "application_id": _submitted_application(e),
        "stage": "underwriting",
    },
}

RESULT_FIELDS = {
    "crm.update_lead": {"id", "automations"},
    "crm.create_task": {"id"},
    "calendar.insert_event": {"id", "htmlLink", "start"},
    "messaging.send": {"sid", "status"},
    "email.send": {"message_id"},
    "slack.post_message": {"ts", "channel"},
    "analytics.track": {"message_id"},
    "payments.charge": {"id", "status", "last4"},
    "loans.advance_stage": {"application_id", "stage"},
}


def test_every_kind_has_a_handler_a_system_and_a_test_payload() -> None:
    assert set(DELIVERIES) == set(SYSTEM_OF_KIND) == set(PAYLOADS) == set(RESULT_FIELDS)
    assert all(kind.split(".")[0] == system for kind, system in SYSTEM_OF_KIND.items())


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
async def test_each_kind_is_applied_once_when_sent_twice_with_one_key(
    kind: str,
    ctx: DeliveryContext,
    enterprise: MockEnterprise,
    vault: FakeVault,
    chaos: httpx.AsyncClient,
) -> None:
    payload = PAYLOADS[kind](enterprise, vault)
    key = f"sb:call-once:{kind.replace('.', '_')}"
    first = await DELIVERIES[kind](ctx, attempt(), payload, key)
    again = await DELIVERIES[kind](ctx, attempt(), payload, key)
    assert first == again  # the vendor's stored answer, or the same record found again
    assert set(first) == RESULT_FIELDS[kind]
    assert all(first[name] for name in RESULT_FIELDS[kind] - {"automations"})
    json.dumps(first)  # the store keeps it as JSON
    book = await ledger(chaos, SYSTEM_OF_KIND[kind])
    assert [e["idempotency_key"] for e in book["entries"]].count(key) == 1, book
    assert book["duplicate_keys"] == []


async def test_a_second_key_applies_again(
    ctx: DeliveryContext, enterprise: MockEnterprise, vault: FakeVault, chaos: httpx.AsyncClient
) -> None:
    """The ledger check above can fail: without the same key the vendor applies twice."""
    payload = PAYLOADS["slack.post_message"](enterprise, vault)
    one = await DELIVERIES["slack.post_message"](ctx, attempt(), payload, "sb:c:one")
    two = await DELIVERIES["slack.post_message"](ctx, attempt(), payload, "sb:c:two")
    assert one["ts"] != two["ts"]
    assert (await ledger(chaos, "slack"))["count"] == 2


# -- what each vendor's answer becomes ----------------------------------------------------------


async def test_a_booking_result_quotes_the_start_time_and_a_whatsapp_goes_out_as_whatsapp(
    ctx: DeliveryContext, enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    start, end = free_slot(4)
    booked = await DELIVERIES["calendar.insert_event"](
        ctx,
        attempt(),
        {
            "start": start,
            "end": end,
            "summary": "Review",
            "attendee_email": None,
        },
        "sb:c:booking",
    )
    assert isinstance(booked["start"], str)
    assert datetime.fromisoformat(booked["start"]) == datetime.fromisoformat(start)
    to = enterprise.context.dataset.customers[1].phone_e164
    sent = await DELIVERIES["messaging.send"](
        ctx,
        attempt(),
        {
            "channel": "whatsapp",
            "to": to,
            "body": f"Booked: {booked['start']}",
        },
        "sb:c:wa",
    )
    assert sent["sid"].startswith("SM")
    (entry,) = (await ledger(chaos, "messaging"))["entries"]
    assert entry["detail"]["channel"] == "whatsapp"
    assert entry["detail"]["to"] == f"whatsapp:{to}"
    assert entry["detail"]["from"] == "whatsapp:+18005550100"


async def test_a_qualified_lead_reports_the_automations_it_set_off(
    ctx: DeliveryContext, enterprise: MockEnterprise
) -> None:
    payload = {"lead_id": _lead_id(enterprise), "fields": {"Status": "Qualified"}}
    done = await DELIVERIES["crm.update_lead"](ctx, attempt(), payload, "sb:c:lead")
    assert done["id"] == payload["lead_id"]
    assert "lead-qualified" in (done["automations"] or "")


async def test_a_charge_by_payment_method_and_the_card_number_stays_out_of_results(
    ctx: DeliveryContext, enterprise: MockEnterprise, vault: FakeVault
) -> None:
    by_method = await DELIVERIES["payments.charge"](
        ctx,
        attempt(),
        {
            "amount": 1000,
            "currency": "usd",
            "card_sealed": None,
            "payment_method": "pm_card_visa",
            "last4": None,
            "metadata": {},
        },
        "sb:c:pm",
    )
    assert by_method["status"] == "succeeded" and by_method["id"].startswith("pi_")
    by_card = await DELIVERIES["payments.charge"](
        ctx, attempt(), PAYLOADS["payments.charge"](enterprise, vault), "sb:c:card"
    )
    assert by_card["last4"] == "4242" and VISA not in json.dumps(by_card)


# -- refusals and faults -----------------------------------------------------------------------


async def test_a_slot_somebody_booked_first_is_rejected(
    ctx: DeliveryContext, enterprise: MockEnterprise, vault: FakeVault
) -> None:
    payload = PAYLOADS["calendar.insert_event"](enterprise, vault)
    await DELIVERIES["calendar.insert_event"](ctx, attempt(), payload, "sb:first:booking")
    taken = attempt()
    with pytest.raises(Rejected) as refused:
        await DELIVERIES["calendar.insert_event"](ctx, taken, payload, "sb:second:booking")
    assert refused.value.status == 409 and taken.status == 409
    assert "already booked" in str(refused.value)


async def test_a_declined_card_names_the_decline_code_but_never_the_number(
    ctx: DeliveryContext, vault: FakeVault, chaos: httpx.AsyncClient
) -> None:
    payload = {
        "amount": 2500,
        "currency": "usd",
        "card_sealed": vault.seal(INSUFFICIENT_FUNDS),
        "payment_method": None,
        "last4": "9995",
        "metadata": {},
    }
    for _ in range(2):  # the retry gets Stripe's stored answer: the same decline
        with pytest.raises(Rejected) as declined:
            await DELIVERIES["payments.charge"](ctx, attempt(), payload, "sb:c:declined")
        error = declined.value
        assert error.status == 402
        assert "insufficient_funds" in str(error)
        chain: BaseException | None = error
        while chain is not None:
            assert INSUFFICIENT_FUNDS not in repr(chain.args)
            chain = chain.__cause__ or chain.__context__
    book = await ledger(chaos, "payments")
    assert book["count"] == 1 and book["entries"][0]["detail"]["outcome"] == "declined"


async def test_slack_answering_ok_false_is_rejected_with_its_error_code(
    ctx: DeliveryContext,
) -> None:
    for channel, slug in (
        ("#no-such-channel", "channel_not_found"),
        ("#legacy-alerts", "is_archived"),
    ):
        seen = attempt()
        with pytest.raises(Rejected) as refused:
            await DELIVERIES["slack.post_message"](
                ctx, seen, {"channel": channel, "text": "hello"}, f"sb:c:{slug}"
            )
        assert str(refused.value).endswith(slug) and seen.status == 200


async def test_an_illegal_stage_change_is_rejected(
    ctx: DeliveryContext, enterprise: MockEnterprise
) -> None:
    payload = {"application_id": _submitted_application(enterprise), "stage": "funded"}
    with pytest.raises(Rejected) as refused:
        await DELIVERIES["loans.advance_stage"](ctx, attempt(), payload, "sb:c:loan")
    assert refused.value.status == 409 and "cannot move from submitted" in str(refused.value)


async def test_a_payload_that_cannot_be_delivered_is_rejected_not_a_crash(
    ctx: DeliveryContext,
) -> None:
    with pytest.raises(Rejected, match="lacks lead_id"):
        await DELIVERIES["crm.update_lead"](ctx, attempt(), {"fields": {}}, "sb:c:bad")
    stale = {
        "amount": 100,
        "currency": "usd",
        "card_sealed": "sealed-elsewhere",
        "payment_method": None,
        "last4": "4242",
        "metadata": {},
    }
    with pytest.raises(Rejected, match="cannot be opened"):
        await DELIVERIES["payments.charge"](ctx, attempt(), stale, "sb:c:stale")


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
async def test_an_injected_429_is_rate_limited_with_its_retry_after(
    kind: str,
    ctx: DeliveryContext,
    enterprise: MockEnterprise,
    vault: FakeVault,
    chaos: httpx.AsyncClient,
) -> None:
    system = SYSTEM_OF_KIND[kind]
    payload = PAYLOADS[kind](enterprise, vault)
    if system == "crm":  # log in first, so the fault meets the write and not the token
        await ctx.clients.crm.tokens.token(5)
    await set_faults(
        chaos, system, {"errors": {"rate": 1, "kinds": {"429": 1}, "retry_after_s": 3}}
    )
    with pytest.raises(SourceRateLimited) as limited:
        await DELIVERIES[kind](ctx, attempt(), payload, "sb:c:limited")
    assert limited.value.retry_after_s == 3 and limited.value.injected_fault == "429"
    await set_faults(chaos, system, {})
    await DELIVERIES[kind](ctx, attempt(), payload, "sb:c:limited")  # now it goes through
    book = await ledger(chaos, system)
    assert [e["idempotency_key"] for e in book["entries"]].count("sb:c:limited") == 1


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
async def test_an_injected_503_is_unavailable(
    kind: str,
    ctx: DeliveryContext,
    enterprise: MockEnterprise,
    vault: FakeVault,
    chaos: httpx.AsyncClient,
) -> None:
    system = SYSTEM_OF_KIND[kind]
    payload = PAYLOADS[kind](enterprise, vault)
    if system == "crm":
        await ctx.clients.crm.tokens.token(5)
    await set_faults(chaos, system, {"errors": {"rate": 1, "kinds": {"503": 1}}})
    seen = attempt()
    with pytest.raises(SourceUnavailable) as down:
        await DELIVERIES[kind](ctx, seen, payload, "sb:c:down")
    assert down.value.status == 503 and seen.injected_fault == "503"
    assert (await ledger(chaos, system))["count"] == 0


async def test_an_expired_crm_session_is_refreshed_once_and_the_write_succeeds(
    ctx: DeliveryContext, enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    crm = ctx.clients.crm
    await crm.tokens.token(5)
    before = crm.tokens.refresh_count
    (await chaos.post("/_mock/crm/tokens/expire")).raise_for_status()
    payload = {"lead_id": _lead_id(enterprise), "fields": {"Rating": "Hot"}}
    seen = attempt()
    done = await DELIVERIES["crm.update_lead"](ctx, seen, payload, "sb:c:refresh")
    assert done["id"] == payload["lead_id"] and seen.status == 204
    assert crm.tokens.refresh_count == before + 1
    stats = (await chaos.get("/_chaos/stats")).json()["systems"]["crm"]["status_counts"]
    assert stats["401"] == 1
    assert (await ledger(chaos, "crm"))["count"] == 1


async def test_a_key_still_in_flight_at_the_vendor_is_retryable_not_rejected(
    ctx: DeliveryContext, enterprise: MockEnterprise, vault: FakeVault, chaos: httpx.AsyncClient
) -> None:
    """A lease that ran out while the first request was still at Stripe: the second sender
    hears 409 idempotency_key_in_use, which must not kill the effect."""
    slow = await chaos.put("/_mock/payments/config", json={"processing_delay_s": 1.0})
    assert slow.status_code == 200, slow.text
    payload = PAYLOADS["payments.charge"](enterprise, vault)
    charge = DELIVERIES["payments.charge"]
    first = asyncio.ensure_future(charge(ctx, attempt(), payload, "sb:c:inflight"))
    await _until_an_intent_is_processing(chaos)
    with pytest.raises(SourceUnavailable, match="still being processed") as busy:
        await charge(ctx, attempt(), payload, "sb:c:inflight")
    assert busy.value.status == 409
    done = await first
    assert await charge(ctx, attempt(), payload, "sb:c:inflight") == done
    assert (await ledger(chaos, "payments"))["count"] == 1


async def _until_an_intent_is_processing(chaos: httpx.AsyncClient) -> None:
    """The intent exists (status processing) while the card network round trip runs."""
    stripe = {"Authorization": f"Bearer {IntegrationSettings().credentials.stripe_secret_key}"}
    for _ in range(100):
        listed = await chaos.get("/payments/v1/payment_intents", headers=stripe)
        if any(i["status"] == "processing" for i in listed.json()["data"]):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the first charge never reached the card network")
