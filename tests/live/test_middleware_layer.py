"""The integration layer through the gateway, over real HTTP: the loans and orders reads and
the loan-stage write go through it (the system map's ``path: middleware``); a dropped or
mangled field is caught, said in provenance, and never handed to the agent; the gateway
down takes both its sources down."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.clients import SalesforceClient, WriteClients, build_write_clients
from integration.errors import InvalidField
from integration.outbox.deliveries import DELIVERIES, DeliveryContext
from integration.policies.executor import Attempt
from integration.settings import IntegrationSettings
from integration.systemmap.model import load_system_map
from integration.transports.base import Transport
from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials, MockSettings
from tests.live.lookup_support import quick_policies, serve_layer
from tests.live.test_lookup import single_contact_customer, start_call

LOANS = {"X-Api-Key": MockCredentials().loans_api_key}


@pytest.fixture
def dataset(enterprise: MockEnterprise) -> Dataset:
    return enterprise.context.dataset


@pytest.fixture
def api(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path, client: httpx.Client
) -> Iterator[httpx.Client]:
    # Each system app builds its routes' validators on its first request (a few hundred
    # ms on a busy machine): paid here, not inside a lookup's deadline.
    creds = MockCredentials()
    gateway = {
        "client_id": creds.middleware_client_id,
        "client_secret": creds.middleware_client_secret,
    }
    for route in ("loan-applications", "orders"):
        client.get(f"/middleware/api/v1/customers/C0000001/{route}", headers=gateway)
    # A breaker that never opens here, so each test sees the gateway's own answers.
    policies = quick_policies(tmp_path, loans={"breaker": {"min_calls": 1000}})
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as (_, http):
        yield http


def with_orders(dataset: Dataset, index: int) -> str:
    """The phone of a caller with one contact, a loan application and orders."""
    found = [single_contact_customer(dataset, n) for n in range(index, index + 40)]
    return next(c.phone_e164 for c in found if dataset.orders_for_customer(c.customer_id))


def mangle(control: httpx.Client, route: str, field: str, action: str = "mangle") -> None:
    fault = {"route": route, "field": field, "action": action}
    control.put("/_chaos/middleware/transform", json={"faults": [fault]}).raise_for_status()


def test_the_map_sends_loans_and_orders_through_the_gateway() -> None:
    system_map, _ = load_system_map()
    assert system_map.gateways() == {"loans": "middleware", "erp": "middleware"}
    lookup = {s.name: s for s in system_map.flows["caller_lookup"].steps}
    assert lookup["loans"].path == "middleware" and lookup["contact"].path == "direct"
    stage = next(s for s in system_map.flows["post_call_sync"].steps if s.name == "loan_stage")
    assert (stage.mode, stage.path, stage.gateway) == ("write", "middleware", "middleware")


def test_the_served_map_says_which_steps_cross_the_gateway(api: httpx.Client) -> None:
    body = api.get("/system-map").json()
    assert body["gateways"]["middleware"]["fronts"] == ["erp", "loans"]
    crossing = {(s["flow"], s["step"]) for s in body["gateways"]["middleware"]["steps"]}
    assert ("post_call_sync", "loan_stage") in crossing and len(crossing) == 3
    loans = next(s for s in body["flows"]["caller_lookup"]["steps"] if s["name"] == "loans")
    assert (loans["path"], loans["gateway"]) == ("middleware", "middleware")
    assert body["systems"]["middleware"]["kind"] == "middleware"
    review = api.get("/system-map/flows/caller_lookup/review").text
    assert "Through middleware: yes" in review


def test_a_lookup_reads_loans_and_orders_through_the_gateway(
    api: httpx.Client, control: httpx.Client, dataset: Dataset, client: httpx.Client
) -> None:
    customer = single_contact_customer(dataset)
    view, _ = start_call(api, customer.phone_e164)
    for field in ("loans", "orders"):
        provenance = view[field]["provenance"]
        assert provenance["status"] == "live", provenance
        assert provenance["gateway"] == "middleware"
    assert view["contact"]["provenance"]["gateway"] is None
    routes = {e["route"] for e in control.get("/_mock/middleware/exchanges").json()["exchanges"]}
    assert routes == {"loan_applications", "orders"}
    # Mapped back into the loans system's own shape, field for field, less what the
    # canonical model does not carry (history, version, when each document changed).
    direct = client.get(
        "/loans/api/v1/applications", params={"customer_id": customer.customer_id}, headers=LOANS
    ).json()["data"]
    kept = [
        {
            **{k: v for k, v in d.items() if k not in ("history", "version")},
            "documents": [{"name": doc["name"], "status": doc["status"]} for doc in d["documents"]],
        }
        for d in direct
    ]
    assert view["loans"]["value"] == kept


def test_a_mangled_field_is_caught_and_never_reaches_the_agent(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    mangle(control, "loan_applications", "status")
    view, _ = start_call(api, single_contact_customer(dataset, 1).phone_e164)
    loans = view["loans"]
    assert loans["value"] is None  # nothing to cache yet for this caller: missing, not garbage
    assert loans["provenance"] == {
        **loans["provenance"],
        "status": "missing",
        "reason": "invalid_field",
        "field": "items[0].status",
        "gateway": "middleware",
        "injected_fault": "field_mangle_status",
    }
    assert view["orders"]["provenance"]["status"] == "live"  # only the faulted route
    assert view["recommendation"]["action"] == "carry_on"  # loans are not essential
    assert "loans" in view["recommendation"]["missing"]


def test_a_dropped_field_falls_back_to_the_last_good_value_and_says_why(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    phone = with_orders(dataset, 2)
    good, _ = start_call(api, phone)
    mangle(control, "orders", "total", action="drop")
    view, _ = start_call(api, phone)
    orders = view["orders"]
    assert orders["provenance"]["status"] == "cached"
    assert orders["provenance"]["reason"] == "invalid_field"
    assert orders["provenance"]["field"] == "items[0].total"
    assert orders["value"] == good["orders"]["value"]
    assert view["recommendation"]["action"] == "carry_on"  # orders are not essential
    assert view["recommendation"]["cached"] == ["orders"]


def test_the_gateway_down_takes_both_its_sources_down(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    control.post("/_chaos/systems/middleware/outage", json={"seconds": 30}).raise_for_status()
    view, _ = start_call(api, single_contact_customer(dataset, 3).phone_e164)
    for field in ("loans", "orders"):
        provenance = view[field]["provenance"]
        assert provenance["status"] == "missing" and provenance["reason"] == "unavailable"
        assert provenance["injected_fault"] == "outage"
    for field in ("contact", "accounts", "eligibility", "call_history"):
        assert view[field]["provenance"]["status"] == "live", field


@pytest.fixture
async def gateway_writes(transport: Transport, mocks_url: str) -> AsyncIterator[WriteClients]:
    settings = IntegrationSettings(mocks_url=mocks_url)
    crm = SalesforceClient(transport, f"{mocks_url}/crm", settings.credentials)
    yield build_write_clients(settings, transport, crm, load_system_map()[0].gateways())
    await crm.aclose()


async def test_a_loan_stage_write_goes_through_once_even_when_its_answer_is_mangled(
    gateway_writes: WriteClients, chaos: httpx.AsyncClient, enterprise: MockEnterprise
) -> None:
    application = next(
        loan.loan_id for loan in enterprise.context.dataset.loans if loan.stage == "submitted"
    )
    payload = {"application_id": application, "stage": "underwriting"}
    deliver = DELIVERIES["loans.advance_stage"]
    ctx = DeliveryContext(clients=gateway_writes, open_card=lambda token: {})
    fault = {"route": "loan_status", "field": "status", "action": "drop"}
    await chaos.put("/_chaos/middleware/transform", json={"faults": [fault]})
    with pytest.raises(InvalidField) as caught:
        await deliver(ctx, Attempt(number=1, timeout_s=5), payload, "sb:mw:loan")
    assert caught.value.field == "status" and caught.value.retryable
    await chaos.delete("/_chaos/middleware/transform")
    done = await deliver(ctx, Attempt(number=2, timeout_s=5), payload, "sb:mw:loan")
    assert done == {"application_id": application, "stage": "underwriting"}
    ledger: dict[str, Any] = (await chaos.get("/_mock/loans/ledger")).json()
    assert ledger["count"] == 1 and ledger["duplicate_keys"] == []  # the retry was a replay
