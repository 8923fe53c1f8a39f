"""The Slack mock over real HTTP: Web API wire format, errors as HTTP 200 ``ok: false``,
per-channel rate limiting, idempotent posts and injected faults."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials

API = "/slack/api"
TOKEN = MockCredentials().slack_bot_token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SALES = "C0SWB0SAL"


def post(
    client: httpx.Client, headers: dict[str, str] | None = None, **arguments: Any
) -> httpx.Response:
    return client.post(
        f"{API}/chat.postMessage", headers={**AUTH, **(headers or {})}, json=arguments
    )


def slack_error(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and set(body) == {"ok", "error"}
    return body["error"]


def ledger_count(control: httpx.Client) -> int:
    return control.get("/_mock/slack/ledger").json()["count"]


def set_limit(control: httpx.Client, per_s: float, burst: int) -> None:
    response = control.put("/_mock/slack/config", json={"per_channel_per_s": per_s, "burst": burst})
    assert response.status_code == 200, response.text


def test_auth_test_names_the_bot(client: httpx.Client) -> None:
    body = client.post(f"{API}/auth.test", headers=AUTH).json()
    assert body["ok"] is True
    assert body["user_id"].startswith("U") and body["bot_id"].startswith("B")
    assert body["team"] == "Switchboard"


@pytest.mark.parametrize(
    ("headers", "form", "error"),
    [
        ({}, {}, "not_authed"),
        ({"Authorization": "Bearer xoxb-wrong"}, {}, "invalid_auth"),
        ({}, {"token": "xoxb-wrong"}, "invalid_auth"),
    ],
)
def test_bad_or_missing_tokens_fail_with_http_200(
    client: httpx.Client, headers: dict[str, str], form: dict[str, str], error: str
) -> None:
    response = client.post(f"{API}/auth.test", headers=headers, data=form)
    assert slack_error(response) == error


def test_a_token_form_argument_is_accepted_but_not_inside_json(client: httpx.Client) -> None:
    form = client.post(
        f"{API}/chat.postMessage", data={"token": TOKEN, "channel": "general", "text": "hi"}
    )
    assert form.json()["ok"] is True
    in_json = client.post(
        f"{API}/chat.postMessage", json={"token": TOKEN, "channel": "general", "text": "hi"}
    )
    assert slack_error(in_json) == "not_authed"


def test_conversations_list_pages_and_filters_archived(client: httpx.Client) -> None:
    everything = client.get(f"{API}/conversations.list", headers=AUTH).json()
    names = {c["name"] for c in everything["channels"]}
    assert {"sales-alerts", "ops-incidents", "voice-agent", "general", "legacy-alerts"} <= names
    assert everything["response_metadata"]["next_cursor"] == ""
    live = client.post(
        f"{API}/conversations.list", headers=AUTH, data={"exclude_archived": "true"}
    ).json()
    assert "legacy-alerts" not in {c["name"] for c in live["channels"]}
    paged: list[str] = []
    cursor = ""
    while True:
        page = client.get(
            f"{API}/conversations.list",
            headers=AUTH,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        ).json()
        assert len(page["channels"]) <= 2
        paged.extend(c["id"] for c in page["channels"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert paged == [c["id"] for c in everything["channels"]]
    bad = client.get(f"{API}/conversations.list", headers=AUTH, params={"cursor": "bm9wZQ=="})
    assert slack_error(bad) == "invalid_cursor"
    assert (
        slack_error(client.get(f"{API}/conversations.list", headers=AUTH, params={"limit": "-1"}))
        == "invalid_limit"
    )


def test_post_message_answers_like_slack_and_is_recorded(
    client: httpx.Client, control: httpx.Client
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hot lead*"}}]
    response = post(client, channel="#sales-alerts", text="Hot lead: Dana", blocks=blocks)
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    assert body["channel"] == SALES
    assert re.fullmatch(r"\d{10}\.\d{6}", body["ts"])
    message = body["message"]
    assert message["text"] == "Hot lead: Dana" and message["blocks"] == blocks
    assert message["ts"] == body["ts"] and message["type"] == "message"
    assert message["bot_id"].startswith("B")
    by_id = post(client, channel=SALES, text="second").json()
    assert by_id["ts"] > body["ts"]
    listed = control.get("/_mock/slack/messages", params={"channel": "sales-alerts"}).json()
    assert [m["text"] for m in listed["messages"]] == ["Hot lead: Dana", "second"]
    entries = control.get("/_mock/slack/ledger").json()["entries"]
    assert [(e["operation"], e["detail"]) for e in entries] == [
        ("chat.postMessage", {"channel": SALES, "ts": body["ts"]}),
        ("chat.postMessage", {"channel": SALES, "ts": by_id["ts"]}),
    ]


def test_form_posts_carry_blocks_as_a_json_string(client: httpx.Client) -> None:
    blocks = [{"type": "divider"}]
    response = client.post(
        f"{API}/chat.postMessage",
        headers=AUTH,
        data={"channel": "ops-incidents", "blocks": json.dumps(blocks)},
    )
    assert response.json()["ok"] is True
    assert response.json()["message"]["blocks"] == blocks


def test_replies_go_to_the_thread_root(client: httpx.Client) -> None:
    root = post(client, channel="voice-agent", text="Call summary").json()["ts"]
    reply = post(client, channel="voice-agent", text="Follow-up", thread_ts=root).json()
    assert reply["ok"] is True and reply["message"]["thread_ts"] == root
    assert (
        slack_error(post(client, channel="voice-agent", text="x", thread_ts=reply["ts"]))
        == "invalid_thread_ts"
    )
    assert (
        slack_error(post(client, channel="voice-agent", text="x", thread_ts="1234567890.123456"))
        == "thread_not_found"
    )
    assert (
        slack_error(post(client, channel="voice-agent", text="x", thread_ts="yesterday"))
        == "invalid_thread_ts"
    )


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "#no-such-channel", "text": "hi"}, "channel_not_found"),
        ({"text": "hi"}, "channel_not_found"),
        ({"channel": "legacy-alerts", "text": "hi"}, "is_archived"),
        ({"channel": "general"}, "no_text"),
        ({"channel": "general", "text": ""}, "no_text"),
        ({"channel": "general", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "general", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
        ({"channel": "general", "blocks": {"type": "divider"}}, "invalid_blocks_format"),
    ],
)
def test_refused_posts_use_slacks_error_slugs(
    client: httpx.Client, control: httpx.Client, arguments: dict[str, Any], error: str
) -> None:
    assert slack_error(post(client, **arguments)) == error
    assert ledger_count(control) == 0


def test_forty_thousand_characters_is_still_allowed(client: httpx.Client) -> None:
    assert post(client, channel="general", text="x" * 40_000).json()["ok"] is True


def test_bad_json_and_unknown_methods(client: httpx.Client) -> None:
    bad = client.post(
        f"{API}/chat.postMessage",
        headers={**AUTH, "Content-Type": "application/json"},
        content=b"{oops",
    )
    assert slack_error(bad) == "invalid_json"
    assert (
        slack_error(client.post(f"{API}/chat.unfurlEverything", headers=AUTH), 404)
        == "unknown_method"
    )


def test_an_idempotency_key_replays_the_post(client: httpx.Client, control: httpx.Client) -> None:
    key = {"Idempotency-Key": "alert-call-7"}
    first = post(client, key, channel="sales-alerts", text="Lead from call 7").json()
    replay = post(client, key, channel="sales-alerts", text="Lead from call 7").json()
    assert replay == first
    assert ledger_count(control) == 1
    posted = control.get("/_mock/slack/messages").json()
    assert posted["count"] == 1 and posted["messages"][0]["idempotency_key"] == "alert-call-7"
    changed = post(client, key, channel="sales-alerts", text="Different text")
    assert slack_error(changed, 400) == "idempotency_key_reused"


def test_posting_is_limited_per_channel_with_retry_after(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert control.get("/_mock/slack/config").json() == {"per_channel_per_s": 1.0, "burst": 30}
    refused = client.put("/_mock/slack/config", json={"per_channel_per_s": 1, "burst": 1})
    assert refused.status_code == 401
    set_limit(control, per_s=0.1, burst=2)
    key = {"Idempotency-Key": "burst-1"}
    assert post(client, key, channel="general", text="1").json()["ok"] is True
    assert post(client, channel="general", text="2").json()["ok"] is True
    throttled = post(client, {"Idempotency-Key": "burst-3"}, channel="general", text="3")
    assert slack_error(throttled, 429) == "ratelimited"
    assert 1 <= int(throttled.headers["retry-after"]) <= 10
    assert post(client, key, channel="general", text="1").json()["ok"] is True  # a replay is free
    assert post(client, channel="ops-incidents", text="other channel").json()["ok"] is True
    assert ledger_count(control) == 3
    # A throttled key was not spent: once the limit allows, the same request posts.
    set_limit(control, per_s=1, burst=30)
    retried = post(client, {"Idempotency-Key": "burst-3"}, channel="general", text="3")
    assert retried.json()["ok"] is True
    assert ledger_count(control) == 4


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("429", 429, "ratelimited"),
        ("503", 503, "service_unavailable"),
        ("500", 500, "internal_error"),
        ("401", 401, "token_expired"),
    ],
)
def test_injected_faults_speak_slack(
    client: httpx.Client, control: httpx.Client, kind: str, status: int, error: str
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {kind: 1}, "retry_after_s": 5}}
    assert control.put("/_chaos/systems/slack", json=profile).status_code == 200
    response = post(client, channel="general", text="hi")
    assert response.headers["x-injected-fault"] == kind
    assert slack_error(response, status) == error
    if status == 429:
        assert response.headers["retry-after"] == "5"
    assert ledger_count(control) == 0


def test_a_revoked_token_is_refused_as_slack_does_and_spends_no_key(
    client: httpx.Client, control: httpx.Client
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {"revoked": 1}}}
    assert control.put("/_chaos/systems/slack", json=profile).status_code == 200
    key = {"Idempotency-Key": "revoked-1"}
    refused = post(client, key, channel="general", text="hi")
    assert refused.headers["x-injected-fault"] == "revoked"
    assert slack_error(refused) == "token_revoked"  # HTTP 200, as Slack answers it
    assert ledger_count(control) == 0
    # Refused before the workspace saw the message, so the key was not spent: with a
    # token that works again, the same request posts, once.
    assert control.delete("/_chaos/systems/slack").status_code == 200
    assert post(client, key, channel="general", text="hi").json()["ok"] is True
    assert post(client, key, channel="general", text="hi").json()["ok"] is True
    assert ledger_count(control) == 1
