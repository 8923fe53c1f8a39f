"""Twilio's Calls resource over the dataset's call history: paging, filters, dates, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from mocks.dataset import CallRecord, Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials

CREDS = MockCredentials()
CALLS = f"/telephony/2010-04-01/Accounts/{CREDS.twilio_account_sid}/Calls.json"


@pytest.fixture
def dataset(enterprise: MockEnterprise) -> Dataset:
    if "telephony" not in enterprise.services:
        pytest.skip("the telephony system is not served (SWITCHBOARD_TEST_SYSTEMS)")
    assert enterprise.context.settings.credentials == CREDS
    return enterprise.context.dataset


@pytest.fixture
def twilio(mocks_url: str) -> Iterator[httpx.Client]:
    auth = (CREDS.twilio_account_sid, CREDS.twilio_auth_token)
    with httpx.Client(base_url=mocks_url, auth=auth, timeout=10.0) as http:
        yield http


def _newest_first(calls: list[CallRecord]) -> list[str]:
    return [c.sid for c in sorted(calls, key=lambda c: (c.start_time, c.sid), reverse=True)]


def _walk(twilio: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page, following next_page_uri exactly as Twilio's SDKs do."""
    pages = [twilio.get(CALLS, params=params).json()]
    while pages[-1]["next_page_uri"]:
        assert len(pages) < 200, "paging does not end"
        pages.append(twilio.get("/telephony" + pages[-1]["next_page_uri"]).json())
    return pages


def test_paging_walks_every_call_once_newest_first(twilio: httpx.Client, dataset: Dataset) -> None:
    pages = _walk(twilio, {"PageSize": 97})
    sids = [call["sid"] for page in pages for call in page["calls"]]
    assert sids == _newest_first(list(dataset.calls))
    assert [p["page"] for p in pages] == list(range(len(pages)))
    assert all(p["page_size"] == 97 and p["start"] == 97 * p["page"] for p in pages)
    assert pages[0]["previous_page_uri"] is None
    assert pages[0]["uri"] == pages[0]["first_page_uri"]
    assert pages[0]["uri"].startswith(CALLS.removeprefix("/telephony") + "?")
    assert pages[1]["end"] == pages[1]["start"] + 96
    back = twilio.get("/telephony" + pages[2]["previous_page_uri"]).json()
    assert [c["sid"] for c in back["calls"]] == [c["sid"] for c in pages[1]["calls"]]


def test_from_returns_exactly_the_customers_inbound_calls(
    twilio: httpx.Client, dataset: Dataset
) -> None:
    def inbound_calls(customer_id: str) -> list[CallRecord]:
        return [c for c in dataset.calls_for_customer(customer_id) if c.direction == "inbound"]

    customer = next(c for c in dataset.customers if len(inbound_calls(c.customer_id)) >= 2)
    inbound = inbound_calls(customer.customer_id)
    pages = _walk(twilio, {"From": customer.phone_e164, "PageSize": 1})
    listed = [call for page in pages for call in page["calls"]]
    assert [c["sid"] for c in listed] == _newest_first(inbound)
    assert {(c["from"], c["to"], c["direction"]) for c in listed} == {
        (customer.phone_e164, inbound[0].to_number, "inbound")
    }
    assert f"From=%2B{customer.phone_e164[1:]}" in pages[0]["next_page_uri"]


def test_fields_and_rfc2822_dates_match_the_dataset(twilio: httpx.Client, dataset: Dataset) -> None:
    record = next(c for c in dataset.calls if c.status == "completed" and c.price_cents)
    assert record.price_cents is not None
    call = twilio.get(CALLS.replace("Calls.json", f"Calls/{record.sid}.json")).json()
    assert parsedate_to_datetime(call["start_time"]) == record.start_time
    assert parsedate_to_datetime(call["end_time"]) == record.end_time
    assert parsedate_to_datetime(call["date_created"]).tzinfo is not None
    assert call["duration"] == str(record.duration_s)
    assert call["price"] == f"-{record.price_cents / 100:.5f}" and call["price_unit"] == "USD"
    assert (call["from"], call["to"], call["status"]) == (
        record.from_number,
        record.to_number,
        "completed",
    )
    assert call["to_formatted"].startswith("(") and call["api_version"] == "2010-04-01"
    assert call["uri"].endswith(f"/Calls/{record.sid}.json")


def test_status_and_start_date_filters(twilio: httpx.Client, dataset: Dataset) -> None:
    newest = max(c.start_time for c in dataset.calls)
    since = (newest - timedelta(days=20)).date()
    expected = [
        c for c in dataset.calls if c.status == "no-answer" and c.start_time.date() >= since
    ]
    pages = _walk(twilio, {"Status": "no-answer", "StartTime>": since.isoformat(), "PageSize": 5})
    assert [c["sid"] for p in pages for c in p["calls"]] == _newest_first(expected)
    day = newest.date()
    on_day = twilio.get(CALLS, params={"StartTime": day.isoformat(), "PageSize": 1000}).json()
    assert {c["sid"] for c in on_day["calls"]} == {
        c.sid for c in dataset.calls if c.start_time.date() == day
    }
    # A full timestamp is an exact bound, as twilio-python sends for a datetime.
    cutoff = datetime.combine(since, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    before = _walk(twilio, {"StartTime<": cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), "PageSize": 1000})
    listed = sum(len(p["calls"]) for p in before)
    assert listed == sum(c.start_time <= cutoff for c in dataset.calls)


def test_credentials_are_checked_like_twilio(mocks_url: str, dataset: Dataset) -> None:
    authenticate = {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    missing = httpx.get(mocks_url + CALLS)
    assert (missing.status_code, missing.json()) == (401, authenticate)
    wrong = httpx.get(mocks_url + CALLS, auth=(CREDS.twilio_account_sid, "not-the-token"))
    assert (wrong.status_code, wrong.json()) == (401, authenticate)
    other = "AC" + "0" * 32
    elsewhere = httpx.get(
        mocks_url + CALLS.replace(CREDS.twilio_account_sid, other),
        auth=(CREDS.twilio_account_sid, CREDS.twilio_auth_token),
    )
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == 20404


def test_unknown_call_and_bad_parameters(twilio: httpx.Client, dataset: Dataset) -> None:
    missing = twilio.get(CALLS.replace("Calls.json", "Calls/CA" + "f" * 32 + ".json"))
    assert missing.status_code == 404
    assert missing.json()["code"] == 20404 and missing.json()["status"] == 404
    for params, field in (
        ({"PageSize": 1001}, "PageSize"),
        ({"Status": "ringing-ish"}, "Status"),
        ({"StartTime>": "yesterday"}, "StartTime>"),
        ({"PageToken": "PAnope"}, "PageToken"),
    ):
        bad = twilio.get(CALLS, params=params)
        assert bad.status_code == 400, params
        assert bad.json()["code"] == 20001 and field in bad.json()["message"]


@pytest.mark.parametrize(("kind", "code"), [("429", 20429), ("503", 20503), ("500", 20500)])
def test_injected_faults_speak_twilio(
    twilio: httpx.Client, control: httpx.Client, dataset: Dataset, kind: str, code: int
) -> None:
    profile = {"errors": {"rate": 1.0, "kinds": {kind: 1.0}, "retry_after_s": 2}}
    control.put("/_chaos/systems/telephony", json=profile).raise_for_status()
    response = twilio.get(CALLS)
    assert response.status_code == int(kind)
    assert response.headers["X-Injected-Fault"] == kind
    body = response.json()
    assert (body["code"], body["status"]) == (code, int(kind))
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    if kind == "429":
        assert response.headers["Retry-After"] == "2"
