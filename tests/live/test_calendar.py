"""The calendar mock over real HTTP: Google Calendar v3 wire format, the booking rule,
idempotent inserts, ETags and the faults it shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials

API = "/calendar/calendar/v3"
AUTH = {"Authorization": f"Bearer {MockCredentials().google_access_token}"}
ALEX = "alex.rivera@switchboard.example"
TEAM = "advisors@switchboard.example"


def events_url(calendar: str = ALEX) -> str:
    return f"{API}/calendars/{calendar}/events"


def early_slot(days_ahead: int, minutes: int = 30) -> dict[str, Any]:
    """07:00 New York time: before any seeded booking, so always free."""
    day = (datetime.now(UTC) + timedelta(days=days_ahead)).date()
    start = f"{day.isoformat()}T07:00:00"
    end = (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()
    zone = "America/New_York"
    return {
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
    }


def booking(days_ahead: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "summary": "Loan consultation",
        "attendees": [{"email": "caller@example.com"}],
        **early_slot(days_ahead),
        **extra,
    }


def ledger(control: httpx.Client, operation: str | None = None) -> dict[str, Any]:
    params = {"operation": operation} if operation else {}
    return control.get("/_mock/calendar/ledger", params=params).json()


def first_booked(client: httpx.Client, calendar: str = ALEX) -> dict[str, Any]:
    items = client.get(
        events_url(calendar), headers=AUTH, params={"singleEvents": "true", "orderBy": "startTime"}
    ).json()["items"]
    return items[0]


def assert_google_error(
    response: httpx.Response, status: int, reason: str, location: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status
    assert error["errors"][0]["reason"] == reason
    if location is not None:
        assert error["errors"][0]["location"] == location
    return error


def test_calendar_list_names_the_advisors_and_the_primary(client: httpx.Client) -> None:
    items = client.get(f"{API}/users/me/calendarList", headers=AUTH).json()["items"]
    ids = [item["id"] for item in items]
    assert ids[0] == TEAM and ALEX in ids and 4 <= len(ids) <= 6
    assert [item["id"] for item in items if item.get("primary")] == [TEAM]
    primary = client.get(f"{API}/calendars/primary", headers=AUTH).json()
    assert primary["id"] == TEAM and primary["timeZone"] == "America/New_York"


def test_seeded_bookings_page_in_start_order_within_the_window(client: httpx.Client) -> None:
    now = datetime.now(UTC)
    window = {
        "timeMin": now.isoformat(),
        "timeMax": (now + timedelta(days=14)).isoformat(),
        "singleEvents": "true",
        "orderBy": "startTime",
    }
    whole = client.get(events_url(), headers=AUTH, params=window).json()
    assert whole["kind"] == "calendar#events" and len(whole["items"]) >= 10
    assert "nextPageToken" not in whole
    paged: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params = {**window, "maxResults": "4", **({"pageToken": token} if token else {})}
        page = client.get(events_url(), headers=AUTH, params=params).json()
        paged.extend(page["items"])
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [e["id"] for e in paged] == [e["id"] for e in whole["items"]]
    starts = [datetime.fromisoformat(e["start"]["dateTime"]) for e in paged]
    assert starts == sorted(starts)
    assert all(datetime.fromisoformat(e["end"]["dateTime"]) > now for e in paged)


def test_free_text_search_matches_summaries(client: httpx.Client) -> None:
    found = client.get(events_url(TEAM), headers=AUTH, params={"q": "stand-up"}).json()["items"]
    assert found and all(e["summary"] == "Advisor stand-up" for e in found)
    nothing = client.get(events_url(TEAM), headers=AUTH, params={"q": "no such words"}).json()
    assert nothing["items"] == []


@pytest.mark.parametrize(
    ("params", "reason", "location"),
    [
        ({"orderBy": "startTime"}, "badRequest", None),
        ({"orderBy": "nonsense"}, "invalidParameter", "orderBy"),
        ({"timeMin": "2026-11-02T09:00:00"}, "invalidParameter", "timeMin"),
        ({"maxResults": "0"}, "invalidParameter", "maxResults"),
        ({"pageToken": "garbage!"}, "invalidParameter", "pageToken"),
        (
            {"timeMin": "2026-11-03T00:00:00Z", "timeMax": "2026-11-02T00:00:00Z"},
            "timeRangeEmpty",
            "timeMax",
        ),
    ],
)
def test_bad_list_parameters_are_refused_in_googles_shape(
    client: httpx.Client, params: dict[str, str], reason: str, location: str | None
) -> None:
    response = client.get(events_url(), headers=AUTH, params=params)
    assert_google_error(response, 400, reason, location)


def test_booking_a_free_slot_returns_the_event_with_its_etag(
    client: httpx.Client, control: httpx.Client
) -> None:
    created = client.post(events_url(), headers=AUTH, json=booking())
    assert created.status_code == 200, created.text
    event = created.json()
    assert event["kind"] == "calendar#event" and event["status"] == "confirmed"
    assert event["start"]["timeZone"] == "America/New_York"
    assert event["attendees"] == [{"email": "caller@example.com", "responseStatus": "needsAction"}]
    assert created.headers["etag"] == event["etag"]
    fetched = client.get(f"{events_url()}/{event['id']}", headers=AUTH)
    assert fetched.json() == event
    unchanged = client.get(
        f"{events_url()}/{event['id']}", headers={**AUTH, "If-None-Match": event["etag"]}
    )
    assert unchanged.status_code == 304
    entries = ledger(control)["entries"]
    assert [(e["operation"], e["resource"]) for e in entries] == [("event.insert", event["id"])]
    assert entries[0]["detail"]["calendar"] == ALEX


def test_a_slot_already_booked_is_refused_with_409_conflict(
    client: httpx.Client, control: httpx.Client
) -> None:
    taken = first_booked(client)
    start = datetime.fromisoformat(taken["start"]["dateTime"]) + timedelta(minutes=15)
    body = {
        "summary": "Double booking",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
    }
    response = client.post(events_url(), headers=AUTH, json=body)
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": 409,
            "message": "The requested time slot is already booked",
            "errors": [
                {
                    "domain": "calendar",
                    "reason": "conflict",
                    "message": "The requested time slot is already booked",
                }
            ],
            "status": "ABORTED",
        }
    }
    assert ledger(control)["count"] == 0
    # The rule is per calendar: the team calendar holds only the 08:45 stand-up then.
    assert client.post(events_url(TEAM), headers=AUTH, json=body).status_code == 200


@pytest.mark.parametrize(
    ("change", "message", "reason", "location"),
    [
        ({"end": None}, "Missing end time.", "required", "end"),
        ({"start": None}, "Missing start time.", "required", "start"),
        (
            {"end": {"dateTime": "2020-01-01T00:00:00Z"}},
            "The specified time range is empty.",
            "timeRangeEmpty",
            "end",
        ),
        (
            {"start": {"dateTime": "2030-01-01T07:00:00"}},
            "Missing time zone definition for start time.",
            "required",
            "start.timeZone",
        ),
        (
            {"start": {"dateTime": "2030-01-01T07:00:00", "timeZone": "Mars/Olympus"}},
            "Invalid time zone definition for start time.",
            "invalid",
            "start",
        ),
        (
            {"attendees": [{"displayName": "No email"}]},
            "Missing attendee email.",
            "required",
            "attendees[0].email",
        ),
        ({"id": "NOT-BASE32HEX"}, "Invalid resource id value.", "invalid", "id"),
    ],
)
def test_bad_bookings_name_the_field(
    client: httpx.Client,
    control: httpx.Client,
    change: dict[str, Any],
    message: str,
    reason: str,
    location: str,
) -> None:
    body = {k: v for k, v in {**booking(), **change}.items() if v is not None}
    error = assert_google_error(
        client.post(events_url(), headers=AUTH, json=body), 400, reason, location
    )
    assert error["message"] == message and error["status"] == "INVALID_ARGUMENT"
    assert ledger(control)["count"] == 0


def test_a_body_that_is_not_json_is_a_parse_error(client: httpx.Client) -> None:
    response = client.post(
        events_url(), headers={**AUTH, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_google_error(response, 400, "parseError")


def test_a_client_chosen_id_makes_the_insert_idempotent(
    client: httpx.Client, control: httpx.Client
) -> None:
    body = booking(id="voiceagentcall0001")
    first = client.post(events_url(), headers=AUTH, json=body)
    assert first.status_code == 200 and first.json()["id"] == "voiceagentcall0001"
    again = client.post(events_url(), headers=AUTH, json=body)
    assert_google_error(again, 409, "duplicate")
    entries = ledger(control, "event.insert")
    assert entries["count"] == 1
    assert entries["entries"][0]["idempotency_key"] == "voiceagentcall0001"


def test_an_idempotency_key_replays_the_same_event(
    client: httpx.Client, control: httpx.Client
) -> None:
    headers = {**AUTH, "Idempotency-Key": "book-call-42"}
    first = client.post(events_url(), headers=headers, json=booking())
    replay = client.post(events_url(), headers=headers, json=booking())
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert ledger(control)["count"] == 1
    assert ledger(control)["duplicate_keys"] == []
    other = client.post(events_url(), headers=headers, json=booking(days_ahead=3))
    assert_google_error(other, 400, "invalid", "Idempotency-Key")


def test_patch_rechecks_the_slot_and_bumps_sequence_and_etag(
    client: httpx.Client, control: httpx.Client
) -> None:
    event = client.post(events_url(), headers=AUTH, json=booking()).json()
    url = f"{events_url()}/{event['id']}"
    taken = first_booked(client)
    onto_taken = {"start": taken["start"], "end": taken["end"]}
    assert_google_error(client.patch(url, headers=AUTH, json=onto_taken), 409, "conflict")
    renamed = client.patch(url, headers=AUTH, json={"summary": "Renamed"}).json()
    assert renamed["summary"] == "Renamed" and renamed["sequence"] == 0
    moved = client.patch(url, headers=AUTH, json=early_slot(4))
    assert moved.status_code == 200
    assert moved.json()["sequence"] == 1 and moved.json()["summary"] == "Renamed"
    assert len({event["etag"], renamed["etag"], moved.json()["etag"]}) == 3
    ops = [e["operation"] for e in ledger(control)["entries"]]
    assert ops == ["event.insert", "event.patch", "event.patch"]


def test_if_match_with_a_stale_etag_is_refused_with_412(
    client: httpx.Client, control: httpx.Client
) -> None:
    event = client.post(events_url(), headers=AUTH, json=booking()).json()
    url = f"{events_url()}/{event['id']}"
    current = client.patch(
        url, headers={**AUTH, "If-Match": event["etag"]}, json={"summary": "First edit"}
    ).json()
    stale = client.patch(url, headers={**AUTH, "If-Match": event["etag"]}, json={"summary": "Lost"})
    error = assert_google_error(stale, 412, "conditionNotMet", "If-Match")
    assert error["status"] == "FAILED_PRECONDITION"
    stale_delete = client.delete(url, headers={**AUTH, "If-Match": event["etag"]})
    assert stale_delete.status_code == 412
    assert client.delete(url, headers={**AUTH, "If-Match": current["etag"]}).status_code == 204
    assert ledger(control, "event.patch")["count"] == 1


def test_delete_cancels_the_event_and_frees_the_slot(
    client: httpx.Client, control: httpx.Client
) -> None:
    event = client.post(events_url(), headers=AUTH, json=booking()).json()
    url = f"{events_url()}/{event['id']}"
    deleted = client.delete(url, headers={**AUTH, "Idempotency-Key": "cancel-1"})
    assert deleted.status_code == 204 and deleted.content == b""
    replay = client.delete(url, headers={**AUTH, "Idempotency-Key": "cancel-1"})
    assert replay.status_code == 204
    assert_google_error(client.delete(url, headers=AUTH), 410, "deleted")
    assert client.get(url, headers=AUTH).json()["status"] == "cancelled"
    listed = client.get(events_url(), headers=AUTH, params={"q": "caller@example.com"}).json()
    assert listed["items"] == []
    shown = client.get(
        events_url(), headers=AUTH, params={"q": "caller@example.com", "showDeleted": "true"}
    ).json()
    assert [e["id"] for e in shown["items"]] == [event["id"]]
    assert client.post(events_url(), headers=AUTH, json=booking()).status_code == 200
    assert ledger(control, "event.delete")["count"] == 1


def test_free_busy_reports_booked_spans_and_unknown_calendars(client: httpx.Client) -> None:
    taken = first_booked(client)
    start = datetime.fromisoformat(taken["start"]["dateTime"])
    query = {
        "timeMin": (start - timedelta(hours=1)).isoformat(),
        "timeMax": (start + timedelta(hours=12)).isoformat(),
        "items": [{"id": ALEX}, {"id": "nobody@switchboard.example"}],
    }
    answer = client.post(f"{API}/freeBusy", headers=AUTH, json=query).json()
    assert answer["kind"] == "calendar#freeBusy"
    busy = answer["calendars"][ALEX]["busy"]
    first_start = datetime.fromisoformat(busy[0]["start"])
    assert first_start == start and busy[0]["start"].endswith("Z")
    assert answer["calendars"]["nobody@switchboard.example"] == {
        "errors": [{"domain": "global", "reason": "notFound"}],
        "busy": [],
    }
    missing = client.post(f"{API}/freeBusy", headers=AUTH, json={"items": [{"id": ALEX}]})
    assert_google_error(missing, 400, "required", "timeMin")


def test_all_day_events_hold_the_whole_local_day(client: httpx.Client) -> None:
    body = {"summary": "Offsite", "start": {"date": "2031-03-01"}, "end": {"date": "2031-03-02"}}
    event = client.post(events_url(TEAM), headers=AUTH, json=body).json()
    assert event["start"] == {"date": "2031-03-01"} and event["end"] == {"date": "2031-03-02"}
    query = {
        "timeMin": "2031-03-01T00:00:00Z",
        "timeMax": "2031-03-03T00:00:00Z",
        "items": [{"id": "primary"}],
    }
    busy = client.post(f"{API}/freeBusy", headers=AUTH, json=query).json()
    # Midnight to midnight in New York (UTC-5 in March before daylight saving starts).
    assert busy["calendars"]["primary"]["busy"] == [
        {"start": "2031-03-01T05:00:00Z", "end": "2031-03-02T05:00:00Z"}
    ]


def test_unknown_calendars_and_events_are_404(client: httpx.Client) -> None:
    assert_google_error(client.get(events_url("nobody@x.example"), headers=AUTH), 404, "notFound")
    assert_google_error(client.get(f"{events_url()}/abcdefgh", headers=AUTH), 404, "notFound")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer ya29.expired"}, {"Authorization": "Basic eWEyOQ=="}]
)
def test_requests_without_the_access_token_are_401(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.get(events_url(), headers=headers)
    error = assert_google_error(response, 401, "authError", "Authorization")
    assert error["status"] == "UNAUTHENTICATED"
    assert error["message"].startswith("Request had invalid authentication credentials")


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("503", 503, "backendError"),
        ("429", 429, "rateLimitExceeded"),
        ("401", 401, "authError"),
        ("500", 500, "backendError"),
    ],
)
def test_injected_faults_speak_google(
    client: httpx.Client, control: httpx.Client, kind: str, status: int, reason: str
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {kind: 1}, "retry_after_s": 2}}
    assert control.put("/_chaos/systems/calendar", json=profile).status_code == 200
    response = client.post(events_url(), headers=AUTH, json=booking())
    assert response.headers["x-injected-fault"] == kind
    assert_google_error(response, status, reason)
    assert ledger(control)["count"] == 0


def test_a_pinned_clock_reseeds_the_same_bookings(
    client: httpx.Client, control: httpx.Client
) -> None:
    monday_noon = {"now": "2030-01-07T12:00:00Z"}
    assert client.put("/_mock/calendar/clock", json=monday_noon).status_code == 401
    pinned = control.put("/_mock/calendar/clock", json=monday_noon).json()
    assert pinned["pinned"] and pinned["first_day"] == "2030-01-07"
    first = first_booked(client)
    assert first["start"]["dateTime"].startswith("2030-01-07")
    control.put("/_mock/calendar/clock", json=monday_noon)
    assert first_booked(client)["id"] == first["id"]
    created = client.post(events_url(), headers=AUTH, json=booking()).json()
    assert created["created"] == "2030-01-07T12:00:00.000Z"
    thawed = control.put("/_mock/calendar/clock", json={"now": None}).json()
    assert not thawed["pinned"]
