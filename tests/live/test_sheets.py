"""The sheets mock over loopback: A1 ranges, render options, appends, quotas, Google's errors,
and a seed whose phone numbers are the dataset's callers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from mocks.sheets.seed import CALLER_LISTS_ID

AUTH = {"Authorization": f"Bearer {MockCredentials().google_access_token}"}
VALUES = f"/sheets/v4/spreadsheets/{CALLER_LISTS_ID}/values"


@pytest.fixture
def sheets(mocks_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mocks_url, headers=AUTH, timeout=10) as http:
        yield http


def read(sheets: httpx.Client, a1: str, **params: str) -> dict[str, Any]:
    response = sheets.get(f"{VALUES}/{a1}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_lists_hold_the_datasets_callers(
    control: httpx.Client, enterprise: MockEnterprise
) -> None:
    lists = control.get("/_mock/sheets/lists").json()
    callers = {c.phone_e164 for c in enterprise.context.dataset.customers}
    assert len(lists["vip"]) >= 15 and len(lists["do_not_call"]) >= 12
    assert set(lists["vip"]) <= callers and set(lists["do_not_call"]) <= callers
    assert set(lists["vip"]) & set(lists["do_not_call"])  # a VIP who asked not to be called


def test_ranges_render_options_and_dimensions(sheets: httpx.Client) -> None:
    whole = read(sheets, "VIP callers")
    assert whole["range"] == "'VIP callers'!A1:Z1000" and whole["majorDimension"] == "ROWS"
    foot = len(whole["values"])
    assert whole["values"][-1][0] == "Count" and whole["values"][-2] == []
    formula = read(sheets, f"'VIP callers'!B{foot}", valueRenderOption="FORMULA")
    assert formula["values"][0][0].startswith("=COUNTA(")
    assert read(sheets, f"'VIP callers'!B{foot}", valueRenderOption="UNFORMATTED_VALUE")[
        "values"
    ] == [[int(whole["values"][-1][1])]]
    columns = read(sheets, "'VIP callers'!A1:C2", majorDimension="COLUMNS")
    assert columns["values"][0][0] == "Name" and columns["values"][2][0] == "Tier"
    assert read(sheets, "'VIP callers'!H900:H901") == {
        "range": "'VIP callers'!H900:H901",
        "majorDimension": "ROWS",
    }
    batch = sheets.get(
        f"{VALUES}:batchGet", params=[("ranges", "A1"), ("ranges", "'Do not call'!A1")]
    )
    assert [r["values"] for r in batch.json()["valueRanges"]] == [[["Name"]], [["Phone number"]]]


def test_an_append_lands_under_the_table_once_per_key(
    sheets: httpx.Client, control: httpx.Client
) -> None:
    before = read(sheets, "'Do not call'!A:D")["values"]
    row = ["4155550199", "asked not to be called", "3/14/2026", "agent"]
    url = f"{VALUES}/'Do not call'!A1:D:append"
    keyed = {"Idempotency-Key": "sb:call-7:dnc"}
    params = {"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"}
    first = sheets.post(url, params=params, json={"values": [row]}, headers=keyed)
    again = sheets.post(url, params=params, json={"values": [row]}, headers=keyed)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    updated = first.json()["updates"]["updatedRange"]
    assert updated == f"'Do not call'!A{len(before) + 1}:D{len(before) + 1}"
    typed = read(sheets, updated, valueRenderOption="UNFORMATTED_VALUE")["values"]
    assert typed == [[4155550199, "asked not to be called", 46095, "agent"]]  # as typed
    assert control.get("/_mock/sheets/ledger").json()["count"] == 1
    other = sheets.post(url, params=params, json={"values": [["x"]]}, headers=keyed)
    assert other.status_code == 400


def test_refusals_are_googles_and_never_echo(sheets: httpx.Client, mocks_url: str) -> None:
    missing_option = sheets.post(f"{VALUES}/A1:append", json={"values": [["zq7"]]})
    assert missing_option.status_code == 400
    error = missing_option.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["fieldViolations"][0]["field"] == "valueInputOption"
    for a1 in ("'zq7 sheet'!A1", "zq7!!", "A1:B99999", "ZZZZ9"):
        refused = sheets.get(f"{VALUES}/{a1}")
        assert refused.status_code == 400 and "zq7" not in refused.text.lower(), refused.text
    assert sheets.get("/sheets/v4/spreadsheets/zq7-no-such").json()["error"]["code"] == 404
    stranger = httpx.get(f"{mocks_url}{VALUES}/A1", headers={"Authorization": "Bearer zq7"})
    assert stranger.status_code == 401 and stranger.json()["error"]["status"] == "UNAUTHENTICATED"


def test_the_per_minute_write_quota_answers_resource_exhausted(
    sheets: httpx.Client, control: httpx.Client
) -> None:
    control.put("/_mock/sheets/quota", json={"write_requests_per_minute": 2}).raise_for_status()
    url = f"{VALUES}/'VIP callers'!A1:append"
    answers = [
        sheets.post(url, params={"valueInputOption": "RAW"}, json={"values": [["n", str(i)]]})
        for i in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    spent = answers[-1]
    assert "retry-after" not in spent.headers  # Google sends none: clients back off alone
    error = spent.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"][0]["metadata"]["quota_limit_value"] == "2"
    assert control.get("/_mock/sheets/quota").json()["writes"]["refused"] == 1
    assert read(sheets, "A1")["values"] == [["Name"]]  # reads have their own quota


def test_an_injected_outage_is_googles_503(sheets: httpx.Client, control: httpx.Client) -> None:
    control.post("/_chaos/systems/sheets/outage", json={"seconds": 60}).raise_for_status()
    down = sheets.get(f"{VALUES}/A1")
    assert down.status_code == 503 and down.headers["x-injected-fault"] == "outage"
    assert down.json()["error"]["status"] == "UNAVAILABLE"
