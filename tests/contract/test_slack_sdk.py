"""The official ``slack_sdk`` WebClient against the Slack mock.

``WebClient(token=<bot token>, base_url="<mocks>/slack/api/")`` is the whole setup: the SDK
appends the method name to the base URL. The typed methods take no headers; a retry-safe
post with an ``Idempotency-Key`` goes through the generic ``api_call(..., headers=...)``.
"""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract


@pytest.fixture
def sdk(mocks_url: str) -> WebClient:
    return WebClient(token=MockCredentials().slack_bot_token, base_url=mocks_url + "/slack/api/")


def test_the_sdk_lists_channels_and_posts(sdk: WebClient, ledger: LedgerReader) -> None:
    assert sdk.auth_test()["user_id"].startswith("U")
    listed = sdk.conversations_list(exclude_archived=True)["channels"]
    channels = {c["name"]: c["id"] for c in listed}
    assert "legacy-alerts" not in channels
    posted = sdk.chat_postMessage(channel=channels["sales-alerts"], text="Hot lead from call 9")
    assert posted["ok"] and posted["channel"] == channels["sales-alerts"]
    reply = sdk.chat_postMessage(channel="sales-alerts", text="Booked", thread_ts=posted["ts"])
    assert reply["message"]["thread_ts"] == posted["ts"]
    entries = ledger("slack")["entries"]
    assert [(e["operation"], e["resource"]) for e in entries] == [
        ("chat.postMessage", posted["ts"]),
        ("chat.postMessage", reply["ts"]),
    ]


def test_a_retried_post_with_an_idempotency_key_applies_once(
    sdk: WebClient, ledger: LedgerReader
) -> None:
    message = {"channel": "sales-alerts", "text": "Callback booked for 10:00"}
    key = {"Idempotency-Key": "sdk-post-1"}
    first = sdk.api_call("chat.postMessage", json=message, headers=key)
    again = sdk.api_call("chat.postMessage", json=message, headers=key)
    assert first["ts"] == again["ts"]
    book = ledger("slack")
    assert book["count"] == 1 and book["entries"][0]["idempotency_key"] == "sdk-post-1"


def test_slack_errors_raise_the_sdks_api_error(
    sdk: WebClient, mocks_url: str, ledger: LedgerReader
) -> None:
    with pytest.raises(SlackApiError) as archived:
        sdk.chat_postMessage(channel="legacy-alerts", text="hello?")
    assert archived.value.response["error"] == "is_archived"
    stranger = WebClient(token="xoxb-nope", base_url=mocks_url + "/slack/api/")
    with pytest.raises(SlackApiError) as denied:
        stranger.chat_postMessage(channel="sales-alerts", text="let me in")
    assert denied.value.response["error"] == "invalid_auth"
    assert ledger("slack")["count"] == 0
