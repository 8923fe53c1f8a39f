"""The Salesforce client against the mock CRM: every stored phone spelling, duplicates,
paging, and the token's life (expiry storms, early refresh, a 401 that will not go away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from integration.clients import SalesforceClient, phone_variants
from integration.errors import CredentialsRejected, InvalidPhoneNumber, NotFound, SourceUnavailable
from integration.policies.executor import Attempt
from integration.settings import VendorCredentials
from integration.transports.base import Transport
from mocks.dataset.phones import PHONE_FORMATS, to_e164
from mocks.registry import MockEnterprise
from tests._support.clocks import ManualClock

CREDS = VendorCredentials()


@pytest.fixture
async def make_crm(
    transport: Transport, mocks_url: str
) -> AsyncIterator[Callable[..., SalesforceClient]]:
    made: list[SalesforceClient] = []

    def make(**options: Any) -> SalesforceClient:
        made.append(SalesforceClient(transport, f"{mocks_url}/crm", CREDS, **options))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


def attempt(timeout_s: float = 10.0) -> Attempt:
    return Attempt(number=1, timeout_s=timeout_s)


def test_the_variants_cover_every_format_the_crm_stores() -> None:
    number = "+14155550123"
    assert set(phone_variants(number)) == {fmt(number) for fmt in PHONE_FORMATS.values()}


@pytest.mark.parametrize("fmt", list(PHONE_FORMATS))
async def test_a_contact_is_found_whichever_way_its_phone_was_typed(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise, fmt: str
) -> None:
    data = enterprise.context.dataset
    single = [c for c in data.crm_contacts if c.customer_id not in data.truth.duplicate_contact_ids]
    contact = next(c for c in single if data.truth.phone_format_of[c.id] == fmt)
    e164 = data.customer_by_id(contact.customer_id).phone_e164  # type: ignore[union-attr]
    found = await make_crm().find_contacts_by_phone(attempt(), e164)
    assert [c["Id"] for c in found] == [contact.id]
    record = found[0]
    assert record["Phone"] == PHONE_FORMATS[fmt](e164)  # served exactly as stored
    assert record["Customer_Id__c"] == contact.customer_id
    assert record["LastName"] == contact.last_name and "attributes" not in record


async def test_duplicates_come_back_together(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise
) -> None:
    data = enterprise.context.dataset
    customer_id, ids = next(
        (cid, ids) for cid, ids in data.truth.duplicate_contact_ids.items() if len(ids) == 3
    )
    e164 = data.customer_by_id(customer_id).phone_e164  # type: ignore[union-attr]
    found = await make_crm().find_contacts_by_phone(attempt(), e164)
    assert sorted(c["Id"] for c in found) == sorted(ids)
    assert len({c["Phone"] for c in found}) == 3  # each copy typed the number differently


async def test_an_unknown_number_finds_nothing_and_garbage_is_refused(
    make_crm: Callable[..., SalesforceClient],
) -> None:
    crm = make_crm()
    assert await crm.find_contacts_by_phone(attempt(), "+12025550199") == []
    with pytest.raises(InvalidPhoneNumber):
        await crm.find_contacts_by_phone(attempt(), "' OR Phone != '")


async def test_leads_by_phone_and_by_id(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise
) -> None:
    lead = next(lead for lead in enterprise.context.dataset.crm_leads if to_e164(lead.phone))
    crm = make_crm()
    by_phone = await crm.find_leads_by_phone(attempt(), to_e164(lead.phone))  # type: ignore[arg-type]
    assert lead.id in {record["Id"] for record in by_phone}
    by_id = await crm.get_lead(attempt(), lead.id)
    assert (by_id["Id"], by_id["Company"], by_id["Status"]) == (lead.id, lead.company, lead.status)
    with pytest.raises(NotFound):
        await crm.get_lead(attempt(), "00Q000000000000AAA")


async def test_a_query_follows_next_records_url_to_the_end(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise
) -> None:
    records = await make_crm(batch_size=200).query(attempt(), "SELECT Id FROM Contact")
    contacts = enterprise.context.dataset.crm_contacts
    assert len(contacts) > 400  # more than two pages of 200
    assert sorted(r["Id"] for r in records) == sorted(c.id for c in contacts)


# -- the token's life -------------------------------------------------------------------------


async def test_200_callers_hit_by_expired_sessions_cause_one_refresh(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    crm = make_crm()
    phones = [c.phone_e164 for c in enterprise.context.dataset.customers[:200]]
    assert await crm.find_contacts_by_phone(attempt(), phones[0])  # logged in
    before = crm.tokens.refresh_count
    (await chaos.post("/_mock/crm/tokens/expire")).raise_for_status()
    found = await asyncio.gather(*(crm.find_contacts_by_phone(attempt(), p) for p in phones))
    assert all(found)  # every one answered, after its 401 was cured
    assert crm.tokens.refresh_count == before + 1
    statuses = (await chaos.get("/_chaos/stats")).json()["systems"]["crm"]["status_counts"]
    assert statuses["401"] == 200  # each caller really was refused once


async def test_the_token_is_renewed_before_it_expires_on_the_injected_clock(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    clock = ManualClock(0.0)
    crm = make_crm(clock=clock, token_ttl_s=100, refresh_margin_s=10)
    phone = enterprise.context.dataset.customers[0].phone_e164
    await crm.find_contacts_by_phone(attempt(), phone)
    first = crm.tokens.current
    clock.now = 95.0  # inside the margin: the old token serves while a new one is fetched
    await crm.find_contacts_by_phone(attempt(), phone)
    await crm.tokens.settle()
    assert crm.tokens.refresh_count == 2 and crm.tokens.current != first
    clock.now = 500.0  # past the new token's end: the next call waits for a fresh one
    await crm.find_contacts_by_phone(attempt(), phone)
    assert crm.tokens.refresh_count == 3
    statuses = (await chaos.get("/_chaos/stats")).json()["systems"]["crm"]["status_counts"]
    assert "401" not in statuses  # renewed in time: the CRM never had to refuse us


async def test_a_401_that_a_refresh_does_not_cure_is_credentials_rejected(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    crm = make_crm()
    phone = enterprise.context.dataset.customers[0].phone_e164
    await crm.find_contacts_by_phone(attempt(), phone)
    profile = {
        "routes": [{"match": "GET /services/data/*", "errors": {"rate": 1, "kinds": {"401": 1}}}]
    }
    (await chaos.put("/_chaos/systems/crm", json=profile)).raise_for_status()
    tried = attempt()
    with pytest.raises(CredentialsRejected) as caught:
        await crm.find_contacts_by_phone(tried, phone)
    assert crm.tokens.refresh_count == 2  # one refresh, one more try, then the truth
    assert (tried.status, tried.injected_fault) == (401, "401") == (caught.value.status, "401")


async def test_a_failing_token_endpoint_is_named_on_the_attempt(
    make_crm: Callable[..., SalesforceClient], enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    profile = {
        "routes": [
            {"match": "POST /services/oauth2/token", "errors": {"rate": 1, "kinds": {"503": 1}}}
        ]
    }
    (await chaos.put("/_chaos/systems/crm", json=profile)).raise_for_status()
    tried = attempt()
    with pytest.raises(SourceUnavailable) as caught:
        await make_crm().find_contacts_by_phone(tried, "+14155550123")
    assert caught.value.operation == "oauth_token"
    assert (tried.status, tried.injected_fault) == (503, "503")
