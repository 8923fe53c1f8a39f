"""The caller lookup over real HTTP: the integration service in front of the real mocks.

Every failure mode the layer must survive, each shown by what the caller view says and
how long it took: slow source, hang, 5xx, 429, expired credentials, database lock,
missing record, outage, duplicate contacts, and the breaker's open/close cycle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.bootstrap import Integration
from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import quick_policies, serve_layer

DEADLINE_MS = 800
SLACK_MS = 25  # the lookup returns within deadline + 25 ms whatever the sources do


@pytest.fixture
def dataset(enterprise: MockEnterprise) -> Dataset:
    return enterprise.context.dataset


@pytest.fixture
def layer(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    policies = quick_policies(
        tmp_path, loans={"breaker": {"min_calls": 4, "window_s": 5, "open_s": 0.5}}
    )
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as served:
        yield served


@pytest.fixture
def api(layer: tuple[Integration, httpx.Client]) -> httpx.Client:
    return layer[1]


def single_contact_customer(dataset: Dataset, index: int = 0) -> Any:
    dupes = set(dataset.truth.duplicate_contact_ids)
    with_history = {call.customer_id for call in dataset.calls}
    found = [
        c
        for c in dataset.customers
        if c.customer_id not in dupes
        and c.customer_id in with_history
        and any(loan.customer_id == c.customer_id for loan in dataset.loans)
    ]
    return found[index]


def start_call(api: httpx.Client, phone: str, **extra: Any) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = api.post("/calls", json={"phone": phone, **extra})
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.text
    return response.json()["view"], elapsed_ms


def newest_summary(api: httpx.Client) -> dict[str, Any]:
    """The newest call as ``GET /calls`` lists it (what the dashboard's table shows)."""
    summary: dict[str, Any] = api.get("/calls", params={"limit": 1}).json()["calls"][0]
    return summary


def set_faults(control: httpx.Client, system: str, profile: dict[str, Any]) -> None:
    control.put(f"/_chaos/systems/{system}", json=profile).raise_for_status()


def test_a_healthy_lookup_assembles_every_source_live(api: httpx.Client, dataset: Dataset) -> None:
    customer = single_contact_customer(dataset)
    national = f"({customer.phone_e164[2:5]}) {customer.phone_e164[5:8]}-{customer.phone_e164[8:]}"
    view, _ = start_call(api, national)
    assert view["phone"] == customer.phone_e164
    assert view["customer_id"] == customer.customer_id
    fields = (
        "contact",
        "accounts",
        "eligibility",
        "call_history",
        "loans",
        "orders",
        "holdings",
        "caller_flags",
    )
    for field in fields:
        assert view[field]["provenance"]["status"] == "live", field
    accounts = {a["account_number"] for a in view["accounts"]["value"]}
    assert accounts == {
        a.account_number for a in dataset.bank_accounts if a.customer_id == customer.customer_id
    }
    assert view["recommendation"]["action"] == "carry_on"
    assert {s["step"] for s in view["steps"]} == {
        "contact",
        "call_history",
        "accounts",
        "eligibility",
        "loans",
        "orders",
        "holdings",
        "caller_flags",
    }


def test_a_slow_source_misses_the_deadline_and_the_lookup_is_still_on_time(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "telephony", {"latency": {"kind": "fixed", "ms": 3000}})
    view, elapsed_ms = start_call(api, single_contact_customer(dataset).phone_e164)
    assert elapsed_ms < DEADLINE_MS + SLACK_MS + 50  # + the HTTP hop to the service itself
    assert view["elapsed_ms"] <= DEADLINE_MS + SLACK_MS
    history = view["call_history"]["provenance"]
    assert history["status"] == "missing" and history["reason"] == "timeout"
    assert view["accounts"]["provenance"]["status"] == "live"


def test_a_hang_is_cut_off_at_the_deadline(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "eligibility", {"errors": {"rate": 1, "kinds": {"hang": 1}}})
    view, _ = start_call(api, single_contact_customer(dataset).phone_e164)
    assert view["elapsed_ms"] <= DEADLINE_MS + SLACK_MS
    assert view["eligibility"]["provenance"]["reason"] == "timeout"
    assert view["recommendation"]["action"] == "carry_on"  # eligibility is not essential


def test_5xx_is_retried_then_reported_with_the_injected_fault(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "erp", {"errors": {"rate": 1, "kinds": {"503": 1}}})
    view, _ = start_call(api, single_contact_customer(dataset).phone_e164)
    orders = view["orders"]["provenance"]
    assert orders["status"] == "missing" and orders["reason"] == "unavailable"
    assert orders["injected_fault"] == "503"
    step = next(s for s in view["steps"] if s["step"] == "orders")
    assert step["attempts"] == 3


def test_429_with_a_long_retry_after_is_not_waited_for_on_a_live_call(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "erp", {"errors": {"rate": 1, "kinds": {"429": 1}, "retry_after_s": 5}})
    view, _ = start_call(api, single_contact_customer(dataset).phone_e164)
    assert view["orders"]["provenance"]["reason"] == "rate_limited"
    assert next(s for s in view["steps"] if s["step"] == "orders")["attempts"] == 1
    assert view["elapsed_ms"] < 400  # it gave up at once instead of sleeping 5 s


def test_429_with_a_short_retry_after_is_honoured_and_then_succeeds(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "erp", {"rate_limit": {"requests": 1, "per_s": 0.5, "key": "global"}})
    customer = single_contact_customer(dataset)
    control.get("/erp/api/v1/orders", headers={"X-Api-Key": "switchboard-erp-key"})  # spend it
    view, _ = start_call(api, customer.phone_e164, deadline_ms=1500)
    step = next(s for s in view["steps"] if s["step"] == "orders")
    assert view["orders"]["provenance"]["status"] == "live"
    assert step["attempts"] == 2


def test_expired_credentials_are_refreshed_once_for_a_burst_of_calls(
    layer: tuple[Integration, httpx.Client], control: httpx.Client, dataset: Dataset
) -> None:
    integration, api = layer
    start_call(api, single_contact_customer(dataset, 0).phone_e164)  # logged in
    before = integration.clients.crm_tokens.refresh_count
    control.post("/_mock/crm/tokens/expire").raise_for_status()
    views = [
        start_call(api, single_contact_customer(dataset, i).phone_e164)[0] for i in range(1, 6)
    ]
    assert all(v["contact"]["provenance"]["status"] == "live" for v in views)
    assert integration.clients.crm_tokens.refresh_count == before + 1


def test_a_database_lock_falls_back_to_the_cached_accounts(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    customer = single_contact_customer(dataset)
    warm, _ = start_call(api, customer.phone_e164)
    control.post("/_chaos/database/lock", json={"seconds": 3}).raise_for_status()
    view, _ = start_call(api, customer.phone_e164)
    accounts = view["accounts"]
    assert accounts["provenance"]["status"] == "cached"
    assert accounts["provenance"]["reason"] == "timeout"
    assert accounts["provenance"]["age_s"] > 0
    assert accounts["value"] == warm["accounts"]["value"]
    assert view["recommendation"]["action"] == "use_cached_and_say_so"
    assert view["elapsed_ms"] <= DEADLINE_MS + SLACK_MS
    assert newest_summary(api)["degraded"] == ["accounts"]


def test_an_unknown_caller_is_a_new_prospect(api: httpx.Client) -> None:
    view, _ = start_call(api, "+1 (907) 555-0199")
    assert view["customer_id"] is None
    assert view["contact"]["provenance"] == {
        **view["contact"]["provenance"],
        "status": "missing",
        "reason": "not_found",
    }
    assert view["accounts"]["provenance"]["reason"] == "no_customer"
    assert view["recommendation"]["action"] == "carry_on"
    # Every field is missing, but each because the sources said so: nothing is degraded.
    assert newest_summary(api)["degraded"] == []


def test_a_crm_outage_uses_the_cached_contact_and_says_so(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    customer = single_contact_customer(dataset)
    start_call(api, customer.phone_e164)
    control.post("/_chaos/systems/crm/outage", json={"seconds": 30}).raise_for_status()
    view, _ = start_call(api, customer.phone_e164)
    contact = view["contact"]["provenance"]
    assert contact["status"] == "cached" and contact["reason"] == "unavailable"
    assert contact["injected_fault"] == "outage"
    assert view["customer_id"] == customer.customer_id  # the cached contact still leads on
    assert view["accounts"]["provenance"]["status"] == "live"
    assert view["recommendation"]["action"] == "use_cached_and_say_so"


def test_a_crm_outage_with_nothing_cached_escalates(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    control.post("/_chaos/systems/crm/outage", json={"seconds": 30}).raise_for_status()
    view, _ = start_call(api, single_contact_customer(dataset, 3).phone_e164)
    assert view["contact"]["provenance"]["status"] == "missing"
    assert view["recommendation"]["action"] == "escalate"
    assert "contact" in view["recommendation"]["reason"]
    # No contact, so no customer id for the other steps: those are degraded too.
    assert newest_summary(api)["degraded"] == [
        "contact",
        "accounts",
        "eligibility",
        "loans",
        "orders",
        "holdings",
    ]


def test_duplicate_contacts_are_resolved_by_the_stated_rule_and_reported(
    api: httpx.Client, dataset: Dataset
) -> None:
    customer_id, contact_ids = next(iter(dataset.truth.duplicate_contact_ids.items()))
    customer = dataset.customer_by_id(customer_id)
    assert customer is not None
    view, _ = start_call(api, customer.phone_e164)
    report = view["duplicates"]
    assert report["count"] == len(contact_ids)
    assert {report["chosen_id"], *report["other_ids"]} == set(contact_ids)
    newest = max(
        (c for c in dataset.crm_contacts if c.id in contact_ids), key=lambda c: c.last_modified_date
    )
    assert report["chosen_id"] == newest.id
    assert "most recently modified" in report["rule"]


def test_the_breaker_opens_after_its_threshold_and_closes_after_probes(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "loans", {"errors": {"rate": 1, "kinds": {"500": 1}}})
    phone = single_contact_customer(dataset).phone_e164
    for _ in range(2):  # 2 lookups x 3 attempts: past min_calls (4) at 100% failures
        start_call(api, phone)
    assert api.get("/systems").json()["loans"]["breaker"]["state"] == "open"
    view, _ = start_call(api, phone)
    assert view["loans"]["provenance"]["reason"] == "breaker_open"
    assert next(s for s in view["steps"] if s["step"] == "loans")["attempts"] == 0
    control.delete("/_chaos/systems/loans").raise_for_status()
    time.sleep(0.6)  # open_s = 0.5
    for _ in range(3):  # half_open_probes = 3 successful probes close it
        view, _ = start_call(api, phone)
        assert view["loans"]["provenance"]["status"] in ("live", "cached")
    assert api.get("/systems").json()["loans"]["breaker"]["state"] == "closed"


@pytest.mark.parametrize("phone", ["", "not a number", "12", "+1 415 555 01234567"])
def test_bad_numbers_are_a_422_naming_the_field(api: httpx.Client, phone: str) -> None:
    response = api.post("/calls", json={"phone": phone})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "phone"]


def test_bad_deadline_is_a_422_naming_the_field(api: httpx.Client) -> None:
    response = api.post("/calls", json={"phone": "+14155550123", "deadline_ms": -5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "deadline_ms"]


def test_calls_events_and_metrics_tell_what_happened(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    set_faults(control, "erp", {"errors": {"rate": 1, "kinds": {"502": 1}}})
    response = api.post("/calls", json={"phone": single_contact_customer(dataset).phone_e164})
    call_id = response.json()["call_id"]
    call = api.get(f"/calls/{call_id}").json()
    assert call["view"]["steps"] and call["phone"].startswith("+1")
    assert api.get("/calls/nope").status_code == 404
    events = api.get("/events", params={"call_id": call_id}).json()["events"]
    erp = [e for e in events if e["system"] == "erp"]
    assert len(erp) == 3 and all(e["injected_fault"] == "502" for e in erp)
    assert {e["kind"] for e in events} >= {"attempt", "lookup"}
    later = api.get("/events", params={"cursor": events[-1]["seq"], "call_id": call_id}).json()
    assert later["events"] == []
    metrics = api.get("/metrics").text
    assert "switchboard_source_attempts_total{" in metrics and 'system="erp"' in metrics


def test_a_cached_decision_never_answers_for_another_product(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    phone = single_contact_customer(dataset).phone_e164
    start_call(api, phone, product="LOAN-PERSONAL")  # warms the cache for that product
    set_faults(control, "eligibility", {"errors": {"rate": 1, "kinds": {"503": 1}}})
    other, _ = start_call(api, phone, product="CARD-GOLD")
    assert other["eligibility"]["provenance"]["status"] == "missing"
    same, _ = start_call(api, phone, product="LOAN-PERSONAL")
    assert same["eligibility"]["provenance"]["status"] == "cached"
    assert same["eligibility"]["value"]["product_code"] == "LOAN-PERSONAL"


def test_an_unknown_product_is_refused_by_the_source_and_not_taken_from_the_cache(
    api: httpx.Client, dataset: Dataset
) -> None:
    phone = single_contact_customer(dataset).phone_e164
    start_call(api, phone, product="LOAN-PERSONAL")
    view, _ = start_call(api, phone, product="NO-SUCH-PRODUCT")
    assert view["eligibility"]["provenance"] == {
        **view["eligibility"]["provenance"],
        "status": "missing",
        "reason": "rejected",
    }


def test_the_same_call_id_twice_at_once_is_refused_once(
    layer: tuple[Integration, httpx.Client], dataset: Dataset
) -> None:
    import concurrent.futures

    _, api = layer
    body = {"phone": single_contact_customer(dataset).phone_e164, "call_id": "dup-1"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda _: api.post("/calls", json=body).status_code, range(2)))
    assert statuses == [201, 409]


def test_a_bad_product_code_is_a_422_naming_the_field(api: httpx.Client) -> None:
    response = api.post("/calls", json={"phone": "+14155550123", "product": "a\nb"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "product"]
