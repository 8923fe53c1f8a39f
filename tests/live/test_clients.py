"""The vendor clients against the real mocks on loopback, over both transports.

Happy paths are graded against the shared dataset; faults are injected through
``/_chaos`` and each must arrive as its ``SourceError`` with the attempt saying what the
mock did. CRM token behaviour is in ``test_crm_client.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from integration.clients import (
    CoreBankingDatabase,
    EligibilityClient,
    ErpClient,
    LoansClient,
    TwilioCallsClient,
)
from integration.errors import (
    CredentialsRejected,
    MalformedResponse,
    NotFound,
    Rejected,
    SourceError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from integration.policies.executor import Attempt
from integration.settings import VendorCredentials
from integration.transports.base import Transport
from loadtests.stack.processes import free_port
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings

CREDS = VendorCredentials()


def attempt(timeout_s: float = 5.0) -> Attempt:
    return Attempt(number=1, timeout_s=timeout_s)


async def set_faults(chaos: httpx.AsyncClient, system: str, profile: dict[str, Any]) -> None:
    (await chaos.put(f"/_chaos/systems/{system}", json=profile)).raise_for_status()


def busiest_caller(enterprise: MockEnterprise) -> tuple[str, str]:
    """(customer_id, phone) of the customer with the most calls: a real history to read."""
    data = enterprise.context.dataset
    best = max(data.customers, key=lambda c: len(data.calls_for_customer(c.customer_id)))
    return best.customer_id, best.phone_e164


# -- happy paths -------------------------------------------------------------------------


async def test_recent_calls_are_the_callers_newest_first(
    transport: Transport, mocks_url: str, enterprise: MockEnterprise
) -> None:
    _, phone = busiest_caller(enterprise)
    telephony = TwilioCallsClient(transport, f"{mocks_url}/telephony", CREDS)
    calls = await telephony.recent_calls(attempt(), phone, limit=5)
    data = enterprise.context.dataset
    mine = sorted(
        (c for c in data.calls if c.from_number == phone),
        key=lambda c: (c.start_time.timestamp(), c.sid),
        reverse=True,
    )[:5]
    assert [c["sid"] for c in calls] == [c.sid for c in mine]
    first, truth = calls[0], mine[0]
    assert first["from"] == phone and first["direction"] == truth.direction
    assert first["start_time"] == truth.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["duration_s"] == truth.duration_s
    assert await telephony.recent_calls(attempt(), "+12025550199") == []


async def test_accounts_carry_balances_and_the_last_five_transactions(
    mocks_url: str, mock_settings: MockSettings, enterprise: MockEnterprise
) -> None:
    data = enterprise.context.dataset
    customer = next(
        c for c in data.customers if len(data.bank_accounts_for_customer(c.customer_id)) > 1
    )
    database = CoreBankingDatabase(mock_settings.resolved_database_url)
    try:
        accounts = await database.accounts_for_customer(attempt(), customer.customer_id)
        assert await database.accounts_for_customer(attempt(), "C-NOBODY") == []
    finally:
        await database.aclose()
    truth = {a.account_number: a for a in data.bank_accounts_for_customer(customer.customer_id)}
    assert {a["account_number"] for a in accounts} == set(truth)
    for account in accounts:
        expected = truth[account["account_number"]]
        assert account["balance_cents"] == expected.balance_cents
        assert (account["type"], account["status"]) == (expected.type, expected.status)
        newest = sorted(
            data.transactions_for_account(expected.account_number),
            key=lambda t: (t.posted_at, t.txn_id),
            reverse=True,
        )[:5]
        assert [t["txn_id"] for t in account["recent_transactions"]] == [t.txn_id for t in newest]
        assert all(t["posted_at"].endswith("Z") for t in account["recent_transactions"])


async def test_an_eligibility_check_is_made_once_per_idempotency_key(
    transport: Transport, mocks_url: str, enterprise: MockEnterprise, chaos: httpx.AsyncClient
) -> None:
    customer = enterprise.context.dataset.customers[0]
    eligibility = EligibilityClient(transport, f"{mocks_url}/eligibility", CREDS)
    first = await eligibility.check(attempt(), customer.customer_id, "LOAN-PERSONAL", "key-1")
    again = await eligibility.check(attempt(), customer.customer_id, "LOAN-PERSONAL", "key-1")
    assert first["decision"] in ("eligible", "ineligible", "review")
    assert again["check_id"] == first["check_id"]
    ledger = (await chaos.get("/_mock/eligibility/ledger")).json()
    assert len(ledger["entries"]) == 1
    with pytest.raises(NotFound):
        await eligibility.check(attempt(), "C-NOBODY", "LOAN-PERSONAL", "key-2")
    with pytest.raises(Rejected):
        await eligibility.check(attempt(), customer.customer_id, "NO-SUCH-PRODUCT", "key-3")


async def test_loans_and_orders_are_the_customers_own(
    transport: Transport, mocks_url: str, enterprise: MockEnterprise
) -> None:
    data = enterprise.context.dataset
    borrower = next(c for c in data.customers if data.loans_for_customer(c.customer_id))
    buyer = next(c for c in data.customers if len(data.orders_for_customer(c.customer_id)) > 1)
    loans = LoansClient(transport, f"{mocks_url}/loans", CREDS)
    erp = ErpClient(transport, f"{mocks_url}/erp", CREDS)
    applications = await loans.applications_for_customer(attempt(), borrower.customer_id)
    orders = await erp.orders_for_customer(attempt(), buyer.customer_id)
    assert {a["application_id"] for a in applications} == {
        loan.loan_id for loan in data.loans_for_customer(borrower.customer_id)
    }
    assert {o["order_id"] for o in orders} == {
        order.order_id for order in data.orders_for_customer(buyer.customer_id)
    }
    assert await loans.applications_for_customer(attempt(), "C-NOBODY") == []


# -- faults --------------------------------------------------------------------------------

# kind -> (error, status the attempt saw, injected fault the attempt saw)
FAULTS: dict[str, tuple[type[SourceError], int | None, str | None]] = {
    "503": (SourceUnavailable, 503, "503"),
    "500": (SourceUnavailable, 500, "500"),
    "429": (SourceRateLimited, 429, "429"),
    "401": (CredentialsRejected, 401, "401"),
    "drop": (SourceUnavailable, 200, "drop"),  # headers came, then the connection was cut
    "malformed": (MalformedResponse, 200, "malformed"),
    "slow_body": (SourceTimeout, 200, "slow_body"),  # headers came, the body did not in time
    # A hang sends nothing at all, so nothing on the wire can say it was injected.
    "hang": (SourceTimeout, None, None),
}


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_each_injected_fault_arrives_as_its_error(
    transport: Transport,
    mocks_url: str,
    enterprise: MockEnterprise,
    chaos: httpx.AsyncClient,
    kind: str,
) -> None:
    expected, status, fault = FAULTS[kind]
    _, phone = busiest_caller(enterprise)
    profile = {"errors": {"rate": 1, "kinds": {kind: 1}, "retry_after_s": 2}}
    await set_faults(chaos, "telephony", profile)
    telephony = TwilioCallsClient(transport, f"{mocks_url}/telephony", CREDS)
    tried = attempt(0.3)
    async with asyncio.timeout(5):
        with pytest.raises(SourceError) as caught:
            await telephony.recent_calls(tried, phone)
    error = caught.value
    assert type(error) is expected
    assert (error.system, error.operation) == ("telephony", "recent_calls")
    assert (tried.status, tried.injected_fault) == (status, fault)
    assert (error.status, error.injected_fault) == (status, fault)
    if isinstance(error, SourceRateLimited):
        assert error.retry_after_s == 2.0


async def test_an_outage_is_unavailable_and_says_so(
    transport: Transport, mocks_url: str, chaos: httpx.AsyncClient
) -> None:
    (await chaos.post("/_chaos/systems/erp/outage", json={"seconds": 30})).raise_for_status()
    erp = ErpClient(transport, f"{mocks_url}/erp", CREDS)
    tried = attempt(1.0)
    with pytest.raises(SourceUnavailable) as caught:
        await erp.orders_for_customer(tried, "C0000001")
    assert tried.injected_fault == "outage" == caught.value.injected_fault


async def test_wrong_credentials_are_rejected(transport: Transport, mocks_url: str) -> None:
    wrong = VendorCredentials(loans_api_key="not-the-key")
    loans = LoansClient(transport, f"{mocks_url}/loans", wrong)
    tried = attempt()
    with pytest.raises(CredentialsRejected):
        await loans.applications_for_customer(tried, "C0000001")
    assert (tried.status, tried.injected_fault) == (401, None)


async def test_a_refused_connection_is_unavailable(transport: Transport) -> None:
    erp = ErpClient(transport, f"http://127.0.0.1:{free_port()}/erp", CREDS)
    with pytest.raises(SourceUnavailable):
        await erp.orders_for_customer(attempt(1.0), "C0000001")


# -- the database's own faults ----------------------------------------------------------------


async def test_a_locked_database_times_out_within_the_attempt(
    mock_settings: MockSettings, chaos: httpx.AsyncClient
) -> None:
    (await chaos.post("/_chaos/database/lock", json={"seconds": 1})).raise_for_status()
    database = CoreBankingDatabase(mock_settings.resolved_database_url)
    tried = attempt(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(SourceTimeout, match="lock"):
            await database.accounts_for_customer(tried, "C0000001")
    finally:
        await database.aclose()
    assert loop.time() - started < 0.8  # gave up with the attempt, not with the lock
    assert (tried.status, tried.injected_fault) == (None, None)


async def test_a_database_outage_is_unavailable(
    mock_settings: MockSettings, chaos: httpx.AsyncClient
) -> None:
    (await chaos.post("/_chaos/database/outage", json={"seconds": 2})).raise_for_status()
    database = CoreBankingDatabase(mock_settings.resolved_database_url)
    try:
        with pytest.raises(SourceUnavailable, match="not a database"):
            await database.accounts_for_customer(attempt(0.5), "C0000001")
    finally:
        await database.aclose()
