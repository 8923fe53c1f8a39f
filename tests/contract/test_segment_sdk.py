"""The official ``segment-analytics-python`` SDK against the analytics mock.

The SDK posts every message to ``host + "/v1/batch"`` with the write key as the Basic auth
username (and again as ``writeKey`` in the body), so ``host=<mocks>/analytics`` is the whole
setup. The message's ``messageId`` is its idempotency key.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract


def segment_client(mocks_url: str, write_key: str | None = None, **options: Any) -> Client:
    # max_retries=0: a refused upload should fail the test now, not after backing off.
    return Client(
        write_key or MockCredentials().segment_write_key,
        host=mocks_url + "/analytics",
        max_retries=0,
        **options,
    )


@pytest.fixture
def sdk(mocks_url: str) -> Client:
    # No shutdown(): in sync mode the SDK has no consumer threads and join() would fail.
    return segment_client(mocks_url, sync_mode=True)


def test_the_sdk_tracks_and_identifies_exactly_once(
    sdk: Client, ledger: LedgerReader, control: httpx.Client
) -> None:
    sdk.identify("C0000001", {"segment": "prime"}, message_id="sdk-identify-1")
    sdk.track("C0000001", "Call Completed", {"outcome": "booked"}, message_id="sdk-track-1")
    sdk.track("C0000001", "Call Completed", {"outcome": "booked"}, message_id="sdk-track-1")
    sdk.flush()
    book = ledger("analytics")
    assert [(e["operation"], e["idempotency_key"]) for e in book["entries"]] == [
        ("event.identify", "sdk-identify-1"),
        ("event.track", "sdk-track-1"),
    ]
    found = control.get("/_mock/analytics/events", params={"event": "Call Completed"}).json()
    [event] = found["events"]
    assert event["properties"] == {"outcome": "booked"}
    assert event["context"]["library"]["name"] == "analytics-python"


def test_gzip_uploads_work_too(mocks_url: str, ledger: LedgerReader) -> None:
    client = segment_client(mocks_url, sync_mode=True, gzip=True)
    client.track(anonymous_id="caller-1", event="Call Started", message_id="gz-sdk-1")
    assert ledger("analytics")["count"] == 1


def test_the_background_consumer_batches_and_flushes(mocks_url: str, ledger: LedgerReader) -> None:
    client = segment_client(mocks_url, upload_interval=0.05)
    try:
        for n in range(5):
            client.track(f"C000000{n}", "Call Completed", message_id=f"bg-{n}")
        client.flush()
    finally:
        client.shutdown()
    book = ledger("analytics")
    assert sorted(e["idempotency_key"] for e in book["entries"]) == [f"bg-{n}" for n in range(5)]


def test_a_wrong_write_key_raises_the_sdks_api_error(mocks_url: str, ledger: LedgerReader) -> None:
    client = segment_client(mocks_url, "not-the-key", sync_mode=True)
    with pytest.raises(APIError) as refused:
        client.track("C0000001", "Call Completed")
    assert refused.value.status == 401 and refused.value.code == "unauthorized"
    assert ledger("analytics")["count"] == 0
