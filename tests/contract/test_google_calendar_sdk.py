"""Google's ``google-api-python-client`` against the calendar mock.

The client builds Calendar v3 from the discovery document it ships with (no network),
so the setup is an endpoint and a token:
``build("calendar", "v3", credentials=Credentials(token), client_options={"api_endpoint":
"<mocks>/calendar/calendar/v3/"})``. The endpoint replaces Google's root URL *and* service
path, hence ``calendar/v3/`` after the mock system's ``/calendar`` prefix. Google's own
retry-safe way to insert is a client-chosen event ``id``: a second insert with it is 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
TEAM = "advisors@switchboard.example"


def calendar_service(mocks_url: str, token: str | None = None) -> Any:
    credentials = Credentials(token or MockCredentials().google_access_token)
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        client_options={"api_endpoint": f"{mocks_url}/calendar/calendar/v3/"},
    )


@pytest.fixture
def sdk(mocks_url: str) -> Iterator[Any]:
    service = calendar_service(mocks_url)
    yield service
    service.close()


def test_the_sdk_lists_books_and_finds_the_slot_busy(sdk: Any, ledger: LedgerReader) -> None:
    calendars = sdk.calendarList().list().execute()["items"]
    assert TEAM in {c["id"] for c in calendars}
    start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=15, minute=0, microsecond=0)
    event = {
        "id": "sdkbooking0001",
        "summary": "Loan consultation",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
    }
    booked = sdk.events().insert(calendarId=TEAM, body=event).execute()
    assert (booked["id"], booked["status"]) == ("sdkbooking0001", "confirmed")
    with pytest.raises(HttpError) as again:  # the same id twice: Google's duplicate
        sdk.events().insert(calendarId=TEAM, body=event).execute()
    assert again.value.resp.status == 409
    window = {"timeMin": start.isoformat(), "timeMax": (start + timedelta(hours=1)).isoformat()}
    busy = sdk.freebusy().query(body={**window, "items": [{"id": TEAM}]}).execute()
    assert busy["calendars"][TEAM]["busy"]
    listed = sdk.events().list(calendarId=TEAM, singleEvents=True, **window).execute()
    assert [e["id"] for e in listed["items"]] == ["sdkbooking0001"]
    assert ledger("calendar")["count"] == 1


def test_a_refused_token_makes_the_sdk_try_to_refresh_it(mocks_url: str) -> None:
    # Google's 401 makes the client refresh the credentials, as against Google; a bare
    # access token cannot be refreshed, so the SDK raises its RefreshError.
    stranger = calendar_service(mocks_url, "ya29.nope")
    try:
        with pytest.raises(RefreshError):
            stranger.calendarList().list().execute()
    finally:
        stranger.close()
