"""Google's ``google-api-python-client`` against the sheets mock.

The client builds Sheets v4 from the discovery document it ships with (no network); Sheets'
service path is empty, so the endpoint is the mock system's prefix:
``build("sheets", "v4", credentials=Credentials(token), client_options={"api_endpoint":
"<mocks>/sheets/"})``. The client percent-encodes A1 ranges (``'VIP callers'!A1:F``) into
the path itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from mocks.dataset import to_e164
from mocks.settings import MockCredentials
from mocks.sheets.seed import CALLER_LISTS_ID
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract


@pytest.fixture
def sheets(mocks_url: str) -> Iterator[Any]:
    service = build(
        "sheets",
        "v4",
        credentials=Credentials(MockCredentials().google_access_token),
        client_options={"api_endpoint": f"{mocks_url}/sheets/"},
    )
    yield service
    service.close()


def test_the_sdk_reads_the_lists_and_their_mess(sheets: Any, control: httpx.Client) -> None:
    values = sheets.spreadsheets().values()
    book = sheets.spreadsheets().get(spreadsheetId=CALLER_LISTS_ID).execute()
    assert [s["properties"]["title"] for s in book["sheets"]] == ["VIP callers", "Do not call"]
    vip = values.get(spreadsheetId=CALLER_LISTS_ID, range="'VIP callers'!A1:F").execute()
    header, *rows = vip["values"]
    assert header == ["Name", "Phone", "Tier", "Account manager", "Added", "Notes"]
    assert [] in rows  # a blank row in the middle of the list
    phones = {to_e164(row[1].strip()) for row in rows if len(row) > 1 and row[1]}
    assert phones - {None} == set(control.get("/_mock/sheets/lists").json()["vip"])
    both = values.batchGet(
        spreadsheetId=CALLER_LISTS_ID,
        ranges=["'Do not call'!A2:A", "'VIP callers'!B:B"],
        valueRenderOption="UNFORMATTED_VALUE",
        majorDimension="COLUMNS",
    ).execute()["valueRanges"]
    assert [r["range"] for r in both] == ["'Do not call'!A2:A1000", "'VIP callers'!B1:B1000"]
    dnc_column = both[0]["values"][0]
    assert any(isinstance(v, int) for v in dnc_column)  # typed into the sheet as numbers


def test_the_sdk_appends_a_row_and_sees_it(sheets: Any, ledger: LedgerReader) -> None:
    values = sheets.spreadsheets().values()
    appended = values.append(
        spreadsheetId=CALLER_LISTS_ID,
        range="'Do not call'!A1",
        valueInputOption="USER_ENTERED",
        includeValuesInResponse=True,
        responseValueRenderOption="UNFORMATTED_VALUE",
        body={"values": [["'+14155550199", "Asked not to be called", "3/14/2026", "agent"]]},
    ).execute()
    updates = appended["updates"]
    assert updates["updatedRows"] == 1 and updates["updatedCells"] == 4
    assert updates["updatedData"]["values"] == [
        ["+14155550199", "Asked not to be called", 46095, "agent"]
    ]
    written = values.get(spreadsheetId=CALLER_LISTS_ID, range=updates["updatedRange"]).execute()
    assert written["values"] == [["+14155550199", "Asked not to be called", "3/14/2026", "agent"]]
    assert ledger("sheets")["count"] == 1


def test_the_sdk_sees_googles_errors(sheets: Any, control: httpx.Client) -> None:
    values = sheets.spreadsheets().values()
    with pytest.raises(HttpError) as missing:
        values.get(spreadsheetId="1NoSuchSpreadsheet", range="A1").execute()
    assert missing.value.resp.status == 404
    with pytest.raises(HttpError) as unparsable:
        values.get(spreadsheetId=CALLER_LISTS_ID, range="'Nowhere'!A1").execute()
    assert unparsable.value.resp.status == 400
    assert "Nowhere" not in unparsable.value.content.decode()
    control.put("/_mock/sheets/quota", json={"read_requests_per_minute": 1}).raise_for_status()
    values.get(spreadsheetId=CALLER_LISTS_ID, range="A1").execute()
    with pytest.raises(HttpError) as spent:
        values.get(spreadsheetId=CALLER_LISTS_ID, range="A1").execute()
    assert spent.value.resp.status == 429
    assert spent.value.error_details[0]["reason"] == "RATE_LIMIT_EXCEEDED"
