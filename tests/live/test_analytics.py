"""The analytics mock over real HTTP: Segment's tracking API, write-key auth, per-message
validation, messageId deduplication and injected faults."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials

API = "/analytics/v1"
WRITE_KEY = MockCredentials().segment_write_key
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def track(**extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "C0000001",
        "event": "Call Completed",
        "properties": {"outcome": "booked", "duration_s": 184},
        **extra,
    }


def stored(control: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    return control.get("/_mock/analytics/events", params=filters).json()["events"]


def ledger(control: httpx.Client) -> dict[str, Any]:
    return control.get("/_mock/analytics/ledger").json()


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == code
    return body["message"]


def test_track_is_accepted_stored_and_recorded(client: httpx.Client, control: httpx.Client) -> None:
    response = client.post(f"{API}/track", headers=AUTH, json=track(messageId="m-1"))
    assert response.status_code == 200 and response.json() == {"success": True}
    [event] = stored(control)
    assert event["type"] == "track" and event["event"] == "Call Completed"
    assert event["properties"] == {"outcome": "booked", "duration_s": 184}
    assert event["messageId"] == "m-1" and "receivedAt" in event
    entries = ledger(control)["entries"]
    assert [(e["operation"], e["resource"], e["idempotency_key"]) for e in entries] == [
        ("event.track", "m-1", "m-1")
    ]
    assert entries[0]["detail"]["event"] == "Call Completed"


def test_identify_with_an_anonymous_id_and_the_write_key_in_the_body(
    client: httpx.Client, control: httpx.Client
) -> None:
    body = {
        "anonymousId": "caller-+14155550123",
        "traits": {"phone": "+14155550123"},
        "writeKey": WRITE_KEY,
    }
    assert client.post(f"{API}/identify", json=body).json() == {"success": True}
    [event] = stored(control, type="identify")
    assert event["anonymousId"] == "caller-+14155550123" and "writeKey" not in event
    assert event["messageId"].startswith("api-")  # stamped by the server, as Segment does


@pytest.mark.parametrize(
    ("headers", "body_key", "fragment"),
    [
        ({}, None, "write key missing"),
        ({}, "wrong-key", "invalid write key"),
        (
            {"Authorization": "Basic " + base64.b64encode(b"wrong-key:").decode()},
            None,
            "invalid write key",
        ),
        ({"Authorization": "Bearer " + WRITE_KEY}, None, "invalid write key"),
    ],
)
def test_a_missing_or_wrong_write_key_is_401(
    client: httpx.Client,
    control: httpx.Client,
    headers: dict[str, str],
    body_key: str | None,
    fragment: str,
) -> None:
    body = track(**({"writeKey": body_key} if body_key else {}))
    message = refused(client.post(f"{API}/track", headers=headers, json=body), 401, "unauthorized")
    assert fragment in message
    assert ledger(control)["count"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("track", {"event": "Call Completed"}, "userId or anonymousId"),
        ("track", {"userId": "C0000001"}, "event is required"),
        ("track", track(properties=["not", "an", "object"]), "properties must be an object"),
        ("track", track(timestamp="2026-11-01T10:00:00"), "timestamp must carry a time zone"),
        ("track", track(timestamp="last tuesday"), "timestamp must be an ISO 8601 date"),
        ("group", {"userId": "C0000001"}, "groupId is required"),
        ("alias", {"userId": "C0000001"}, "previousId is required"),
        ("track", track(properties={"blob": "x" * 33_000}), "exceeds 32KB"),
    ],
)
def test_invalid_messages_are_400_naming_the_field(
    client: httpx.Client, control: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    message = refused(client.post(f"{API}/{path}", headers=AUTH, json=body), 400, "invalid_request")
    assert field in message
    assert stored(control) == [] and ledger(control)["count"] == 0


def test_a_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        f"{API}/batch", headers={**AUTH, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert "not valid JSON" in refused(response, 400, "invalid_request")


def test_a_batch_applies_every_type_and_shares_its_context(
    client: httpx.Client, control: httpx.Client
) -> None:
    batch = {
        "batch": [
            {
                "type": "identify",
                "userId": "C0000002",
                "traits": {"segment": "prime"},
                "messageId": "b-1",
            },
            {
                "type": "track",
                "userId": "C0000002",
                "event": "Loan Eligibility Checked",
                "messageId": "b-2",
                "context": {"call_sid": "CA123"},
            },
            {"type": "page", "anonymousId": "web-9", "name": "Rates", "messageId": "b-3"},
        ],
        "context": {"source": "voice-agent"},
        "sentAt": datetime.now(UTC).isoformat(),
    }
    assert client.post(f"{API}/batch", headers=AUTH, json=batch).json() == {"success": True}
    events = stored(control)
    assert [e["type"] for e in events] == ["identify", "track", "page"]
    assert events[1]["context"] == {"source": "voice-agent", "call_sid": "CA123"}
    assert [e["operation"] for e in ledger(control)["entries"]] == [
        "event.identify",
        "event.track",
        "event.page",
    ]
    assert [
        e["messageId"] for e in stored(control, userId="C0000002", event="Loan Eligibility Checked")
    ] == ["b-2"]


def test_one_bad_message_refuses_the_whole_batch(
    client: httpx.Client, control: httpx.Client
) -> None:
    batch = {"batch": [track(messageId="ok-1"), {"type": "track", "userId": "C0000001"}]}
    message = refused(client.post(f"{API}/batch", headers=AUTH, json=batch), 400, "invalid_request")
    assert "batch[1].event" in message
    bad_type = {"batch": [{"type": "purchase", "userId": "C0000001"}]}
    assert "batch[0].type" in refused(
        client.post(f"{API}/batch", headers=AUTH, json=bad_type), 400, "invalid_request"
    )
    assert stored(control) == []


def test_a_batch_over_500kb_is_refused(client: httpx.Client, control: httpx.Client) -> None:
    messages = [track(messageId=f"big-{i}", properties={"pad": "x" * 20_000}) for i in range(26)]
    response = client.post(f"{API}/batch", headers=AUTH, json={"batch": messages})
    assert "batch exceeds 500KB" in refused(response, 400, "invalid_request")
    assert ledger(control)["count"] == 0
    fits = client.post(f"{API}/batch", headers=AUTH, json={"batch": messages[:20]})
    assert fits.status_code == 200 and ledger(control)["count"] == 20


def test_a_repeated_message_id_is_accepted_and_applied_once(
    client: httpx.Client, control: httpx.Client
) -> None:
    for _ in range(3):
        response = client.post(f"{API}/track", headers=AUTH, json=track(messageId="dup-1"))
        assert response.json() == {"success": True}
    twice_in_a_batch = {"batch": [track(messageId="dup-2")] * 2}
    assert client.post(f"{API}/batch", headers=AUTH, json=twice_in_a_batch).status_code == 200
    assert [e["messageId"] for e in stored(control)] == ["dup-1", "dup-2"]
    book = ledger(control)
    assert book["count"] == 2 and book["duplicate_keys"] == []


def test_gzipped_batches_are_read(client: httpx.Client, control: httpx.Client) -> None:
    payload = gzip.compress(json.dumps({"batch": [track(messageId="gz-1")]}).encode())
    headers = {**AUTH, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert client.post(f"{API}/batch", headers=headers, content=payload).status_code == 200
    assert [e["messageId"] for e in stored(control)] == ["gz-1"]


def test_timestamps_are_corrected_for_the_senders_clock_skew(
    client: httpx.Client, control: httpx.Client
) -> None:
    happened = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    body = track(
        timestamp=happened.isoformat(), sentAt=(happened + timedelta(seconds=90)).isoformat()
    )
    client.post(f"{API}/track", headers=AUTH, json=body)
    [event] = stored(control)
    received = datetime.fromisoformat(event["receivedAt"])
    assert datetime.fromisoformat(event["timestamp"]) == received - timedelta(seconds=90)
    assert event["originalTimestamp"] == happened.isoformat()


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("503", 503, "unavailable"),
        ("429", 429, "rate_limited"),
        ("500", 500, "server_error"),
        ("401", 401, "unauthorized"),
    ],
)
def test_injected_faults_answer_in_segments_shape(
    client: httpx.Client, control: httpx.Client, kind: str, status: int, code: str
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {kind: 1}, "retry_after_s": 4}}
    assert control.put("/_chaos/systems/analytics", json=profile).status_code == 200
    response = client.post(f"{API}/track", headers=AUTH, json=track(messageId="f-1"))
    assert response.headers["x-injected-fault"] == kind
    refused(response, status, code)
    if status == 429:
        assert response.headers["retry-after"] == "4"
    assert ledger(control)["count"] == 0
