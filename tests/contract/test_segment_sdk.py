"""The official ``segment-analytics-python`` SDK against the analytics mock.

The SDK posts every message to ``host + "/v1/batch"`` with the write key as the Basic auth
username (and again as ``writeKey`` in the body), so ``host=<mocks>/analytics`` is the whole
setup.
"""

from __future__ import annotations

import httpx
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from mocks.settings import MockCredentials

pytestmark = pytest.mark.contract


@pytest.fixture
def sdk(mocks_url: str) -> Client:
    # No shutdown(): in sync mode the SDK has no consumer threads and join() would fail.
    return Client(MockCredentials().segment_write_key, host=mocks_url + "/analytics",
                  sync_mode=True, max_retries=0)


def test_the_sdk_tracks_and_identifies_exactly_once(sdk: Client, control: httpx.Client) -> None:
    sdk.identify("C0000001", {"segment": "prime"}, message_id="sdk-identify-1")
    sdk.track("C0000001", "Call Completed", {"outcome": "booked"}, message_id="sdk-track-1")
    sdk.track("C0000001", "Call Completed", {"outcome": "booked"}, message_id="sdk-track-1")
    sdk.flush()
    book = control.get("/_mock/analytics/ledger").json()
    assert [(e["operation"], e["idempotency_key"]) for e in book["entries"]] == [
        ("event.identify", "sdk-identify-1"),
        ("event.track", "sdk-track-1"),
    ]
    [event] = control.get("/_mock/analytics/events", params={"event": "Call Completed"}).json()[
        "events"
    ]
    assert event["properties"] == {"outcome": "booked"}
    assert event["context"]["library"]["name"] == "analytics-python"


def test_gzip_uploads_work_too(mocks_url: str, control: httpx.Client) -> None:
    client = Client(MockCredentials().segment_write_key, host=mocks_url + "/analytics",
                    sync_mode=True, gzip=True, max_retries=0)
    client.track(anonymous_id="caller-1", event="Call Started", message_id="gz-sdk-1")
    assert control.get("/_mock/analytics/ledger").json()["count"] == 1


def test_the_background_consumer_batches_and_flushes(
    mocks_url: str, control: httpx.Client
) -> None:
    client = Client(MockCredentials().segment_write_key, host=mocks_url + "/analytics",
                    upload_interval=0.05, max_retries=0)
    try:
        for n in range(5):
            client.track(f"C000000{n}", "Call Completed", message_id=f"bg-{n}")
        client.flush()
    finally:
        client.shutdown()
    book = control.get("/_mock/analytics/ledger").json()
    assert sorted(e["idempotency_key"] for e in book["entries"]) == [f"bg-{n}" for n in range(5)]


def test_a_wrong_write_key_raises_the_sdks_api_error(mocks_url: str) -> None:
    client = Client("not-the-key", host=mocks_url + "/analytics", sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        client.track("C0000001", "Call Completed")
    assert refused.value.status == 401 and refused.value.code == "unauthorized"
