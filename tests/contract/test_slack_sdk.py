"""The official ``slack_sdk`` WebClient against the Slack mock.

``WebClient(token=<bot token>, base_url="<mocks>/slack/api/")`` is the whole setup: the SDK
appends the method name to the base URL.
"""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from mocks.settings import MockCredentials

pytestmark = pytest.mark.contract


@pytest.fixture
def sdk(mocks_url: str) -> WebClient:
    return WebClient(token=MockCredentials().slack_bot_token, base_url=mocks_url + "/slack/api/")


def test_the_sdk_lists_channels_and_posts(sdk: WebClient, control: httpx.Client) -> None:
    assert sdk.auth_test()["user_id"].startswith("U")
    listed = sdk.conversations_list(exclude_archived=True)["channels"]
    channels = {c["name"]: c["id"] for c in listed}
    assert "legacy-alerts" not in channels
    posted = sdk.chat_postMessage(channel=channels["sales-alerts"], text="Hot lead from call 9")
    assert posted["ok"] and posted["channel"] == channels["sales-alerts"]
    reply = sdk.chat_postMessage(channel="sales-alerts", text="Booked", thread_ts=posted["ts"])
    assert reply["message"]["thread_ts"] == posted["ts"]
    assert control.get("/_mock/slack/ledger").json()["count"] == 2


def test_slack_errors_raise_the_sdks_api_error(sdk: WebClient, mocks_url: str) -> None:
    with pytest.raises(SlackApiError) as archived:
        sdk.chat_postMessage(channel="legacy-alerts", text="hello?")
    assert archived.value.response["error"] == "is_archived"
    stranger = WebClient(token="xoxb-nope", base_url=mocks_url + "/slack/api/")
    with pytest.raises(SlackApiError) as denied:
        stranger.auth_test()
    assert denied.value.response["error"] == "invalid_auth"
