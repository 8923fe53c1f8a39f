"""The agent-facing API tried from outside, on loopback: who may call, what a browser can
forge, what a body may be, and that bad input is a clear 4xx that never echoes it."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.access import Access, MissingSecrets
from integration.bootstrap import Integration, build
from integration.calls.vapi import MAX_TOOL_CALLS
from integration.settings import IntegrationSettings
from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer

Served = tuple[Integration, httpx.Client]


@pytest.fixture(scope="module")
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serve_layer(mocks_url, mock_settings, tmp_path_factory.mktemp("security")) as pair:
        yield pair


@pytest.fixture(autouse=True)
def clean_mocks() -> None:
    """These tests write nothing the others read: the module's mocks stay as they are."""


@pytest.fixture(scope="module")
def phones(enterprise: MockEnterprise) -> list[str]:
    data: Dataset = enterprise.context.dataset
    return [c.phone_e164 for c in data.customers[:40]]


def anonymous(served: Served) -> httpx.Client:
    return httpx.Client(base_url=str(served[1].base_url), timeout=30)


def vapi_message(call_id: str, phone: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "message": {
            "type": "tool-calls",
            "call": {"id": call_id, "customer": {"number": phone}},
            "toolCallList": calls,
        }
    }


def one_tool(name: str, arguments: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return {"id": f"tc_{n}", "type": "function", "function": {"name": name, "arguments": arguments}}


# -- who may call -------------------------------------------------------------------------


def test_the_vapi_webhook_refuses_anonymous_and_wrong_credentials(
    served: Served, phones: list[str]
) -> None:
    layer, _ = served
    body = vapi_message(
        str(uuid.uuid4()),
        phones[0],
        [one_tool("take_payment", {"amount_cents": 500, "payment_method": "pm_card_visa"})],
    )
    with anonymous(served) as http:
        assert http.post("/vapi/webhook", json=body).status_code == 401
        wrong = {"x-vapi-secret": layer.access.vapi_secret[:-1] + "x"}
        assert http.post("/vapi/webhook", json=body, headers=wrong).status_code == 401
        api_token_is_not_vapis = {"authorization": f"Bearer {layer.access.api_token}"}
        assert (
            http.post("/vapi/webhook", json=body, headers=api_token_is_not_vapis).status_code == 401
        )
        # No tool ran: no call was even started under that Vapi id.
        ours = http.get("/calls", headers=api_token_is_not_vapis).json()
        assert all(c["origin"] != "vapi" for c in ours["calls"])


@pytest.mark.parametrize("form", ["x-vapi-secret", "bearer", "hmac"])
def test_the_vapi_webhook_takes_each_of_vapis_credential_forms(
    served: Served, phones: list[str], form: str
) -> None:
    layer, _ = served
    secret = layer.access.vapi_secret
    raw = json.dumps(
        vapi_message(
            str(uuid.uuid4()), phones[1], [one_tool("check_eligibility", {"product": "LOAN-AUTO"})]
        )
    ).encode()
    headers = {"content-type": "application/json"}
    if form == "x-vapi-secret":
        headers["x-vapi-secret"] = secret
    elif form == "bearer":
        headers["authorization"] = f"Bearer {secret}"
    else:
        headers["x-vapi-signature"] = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    with anonymous(served) as http:
        answered = http.post("/vapi/webhook", content=raw, headers=headers)
        assert answered.status_code == 200, answered.text
        assert answered.json()["results"][0]["toolCallId"] == "tc_0"
        if form == "hmac":  # the signature is over these very bytes: another body fails
            tampered = raw.replace(b"LOAN-AUTO", b"LOAN-HOME")
            assert http.post("/vapi/webhook", content=tampered, headers=headers).status_code == 401


def test_call_tool_outbox_event_and_scenario_routes_need_the_api_token(
    served: Served, phones: list[str]
) -> None:
    _, api = served
    call_id = api.post("/calls", json={"phone": phones[2]}).json()["call_id"]
    guarded = [
        ("POST", "/calls", {"phone": phones[3]}),
        ("GET", "/calls", None),
        ("GET", f"/calls/{call_id}", None),
        ("POST", f"/calls/{call_id}/tools/schedule_callback", {"arguments": {"reason": "x"}}),
        ("POST", f"/calls/{call_id}/turns", {"speaker": "caller", "text": "hello"}),
        ("POST", f"/calls/{call_id}/end", {"disposition": "resolved"}),
        ("GET", "/events", None),
        ("GET", "/outbox", None),
        ("POST", "/outbox/dead/replay", None),
        ("GET", "/payments/manual", None),
        ("GET", "/scenarios/results", None),
        ("GET", "/systems/health", None),
        (
            "POST",
            "/scenarios/results",
            {"name": "x", "started_at": "now", "scorecard": {}, "passed": True},
        ),
    ]
    with anonymous(served) as http:
        for method, path, body in guarded:
            refused = http.request(method, path, json=body)
            assert refused.status_code == 401, (method, path)
            assert refused.headers["www-authenticate"] == "Bearer"
            wrong = {"authorization": "Bearer " + "x" * 43}
            assert http.request(method, path, json=body, headers=wrong).status_code == 401
        for path in (
            "/health",
            "/metrics",
            "/systems",
            "/workers",
            "/tools",
            "/system-map",
            "/openapi.json",
            "/docs",
        ):
            assert http.get(path).status_code == 200, path
    assert api.get(f"/calls/{call_id}").json()["transcript"] == []  # the refused turn: none


def test_a_vapi_call_can_never_reach_a_call_started_with_post_calls(
    served: Served, phones: list[str]
) -> None:
    layer, api = served
    ours = api.post("/calls", json={"phone": phones[4]}).json()["call_id"]
    vapi = {"x-vapi-secret": layer.access.vapi_secret}
    message = vapi_message(
        ours, phones[5], [one_tool("escalate_to_human", {"reason": "take over"})]
    )
    assert api.post("/vapi/webhook", json=message, headers=vapi).status_code == 200
    ours_after = api.get(f"/calls/{ours}").json()
    assert ours_after["tools"] == [] and ours_after["view"]["phone"] == phones[4]


def test_more_tool_calls_than_allowed_in_one_message_are_refused_whole(
    served: Served, phones: list[str]
) -> None:
    layer, api = served
    vapi = {"x-vapi-secret": layer.access.vapi_secret}
    calls = [one_tool("schedule_callback", {"reason": "again"}, n) for n in range(200)]
    assert len(calls) > MAX_TOOL_CALLS
    vapi_id = str(uuid.uuid4())
    answered = api.post("/vapi/webhook", json=vapi_message(vapi_id, phones[6], calls), headers=vapi)
    assert answered.status_code == 200
    results = answered.json()["results"]
    assert len(results) == 200 and len({r["result"] for r in results}) == 1
    assert "one at a time" in results[0]["result"]  # more than MAX_TOOL_CALLS: none run
    events = api.get("/events", params={"kind": "tool", "limit": 5000}).json()["events"]
    assert not [e for e in events if vapi_id in json.dumps(e)]


def test_a_service_beyond_loopback_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    with pytest.raises(MissingSecrets, match="SWITCHBOARD_INTEGRATION_API_TOKEN"):
        build(IntegrationSettings(host="0.0.0.0", state_dir=tmp_path, store_url="sqlite://"))
    with pytest.raises(MissingSecrets, match="VAPI_SECRET"):
        Access.resolve("a" * 32, None, "10.1.2.3", tmp_path)
    assert not list(tmp_path.glob("*.env"))  # nothing generated for it either
    given = Access.resolve("a" * 32, "b" * 32, "0.0.0.0", tmp_path)
    assert given.source == "settings"
    made = Access.resolve(None, None, "127.0.0.1", tmp_path)
    again = Access.resolve(None, None, "localhost", tmp_path)
    assert made.api_token == again.api_token and len(made.api_token) >= 40
    assert (tmp_path / "integration-secrets.env").stat().st_mode & 0o777 == 0o600


# -- what a browser cannot forge ----------------------------------------------------------


def test_a_cross_site_simple_request_is_refused_before_any_route(
    served: Served, phones: list[str]
) -> None:
    layer, api = served
    call_id = api.post("/calls", json={"phone": phones[7]}).json()["call_id"]
    forged = {"content-type": "text/plain", "origin": "https://evil.example"}
    body = json.dumps({"arguments": {"reason": "sneaky"}})
    tool = api.post(f"/calls/{call_id}/tools/schedule_callback", content=body, headers=forged)
    assert tool.status_code == 415
    vapi = {**forged, "x-vapi-secret": layer.access.vapi_secret}
    message = json.dumps(vapi_message(str(uuid.uuid4()), phones[7], []))
    assert api.post("/vapi/webhook", content=message, headers=vapi).status_code == 415
    assert api.get(f"/calls/{call_id}").json()["tools"] == []
    preflight = api.options(
        "/calls",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_a_foreign_host_header_is_refused(served: Served) -> None:
    _, api = served
    rebound = api.get("/health", headers={"host": "attacker.example"})
    assert rebound.status_code == 400
    assert api.get("/health", headers={"host": "localhost"}).status_code == 200


# -- bounded input, clear 4xx, nothing echoed ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"phone": "2154861799", "deadline_ms": NaN}', "deadline_ms"),
        (b'{"phone": "2154861799", "deadline_ms": Infinity}', "deadline_ms"),
        (b'{"phone": "2154861799", "deadline_ms": 1e999}', "deadline_ms"),
        (b'{"phone": "\\ud800"}', None),
    ],
)
def test_non_finite_numbers_and_lone_surrogates_are_a_422(
    served: Served, raw: bytes, field: str | None
) -> None:
    _, api = served
    refused = api.post("/calls", content=raw, headers={"content-type": "application/json"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert isinstance(detail, list) and detail
    if field is not None:
        assert detail[0]["loc"] == ["body", field]
    assert "NaN" not in refused.text and "Infinity" not in refused.text
    assert "ud800" not in refused.text and "input" not in detail[0]


def test_json_nested_too_deep_is_a_400_and_a_big_body_a_413(served: Served) -> None:
    layer, api = served
    vapi = {"x-vapi-secret": layer.access.vapi_secret}
    deep = b'{"message": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    for path, headers in (("/vapi/webhook", vapi), ("/calls", {}), ("/scenarios/results", {})):
        refused = api.post(
            path, content=deep, headers={**headers, "content-type": "application/json"}
        )
        assert refused.status_code == 400, (path, refused.text)
        assert refused.json()["detail"][0]["type"] == "json_too_deep"
    huge = b'{"phone": "' + b"1" * (layer.settings.max_body_bytes + 1) + b'"}'
    assert (
        api.post("/calls", content=huge, headers={"content-type": "application/json"}).status_code
        == 413
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"phone": "'
        for _ in range(20):
            yield b"2" * 65536
        yield b'"}'

    streamed = api.post("/calls", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_ids_beyond_their_column_are_not_found(served: Served) -> None:
    _, api = served
    for effect_id in ("9223372036854775808", "99999999999999999999999", "-1"):
        replay = api.post(f"/outbox/dead/{effect_id}/replay")
        assert replay.status_code in (404, 422), (effect_id, replay.text)
        assert effect_id not in replay.text
    long_id = "c" * 500
    assert api.get(f"/calls/{long_id}").status_code == 422
    assert long_id not in api.get(f"/calls/{long_id}").text


def test_errors_name_the_field_and_never_echo_it(served: Served, phones: list[str]) -> None:
    _, api = served
    secret = "zq-" + uuid.uuid4().hex
    started = api.post("/calls", json={"phone": phones[8], "call_id": secret + "!"})
    assert started.status_code == 422 and secret not in started.text
    exists = api.post("/calls", json={"phone": phones[8], "call_id": "repeat-" + secret[:20]})
    again = api.post("/calls", json={"phone": phones[8], "call_id": "repeat-" + secret[:20]})
    assert exists.status_code == 201 and again.status_code == 409 and secret[:20] not in again.text
    unknown = api.post(f"/calls/nope-{secret[:20]}/tools/schedule_callback", json={})
    assert unknown.status_code == 404 and secret[:20] not in unknown.text
    call_id = exists.json()["call_id"]
    bad_email = {
        "disposition": "booked",
        "messages": [{"channel": "email", "to": f"{secret}-not-an-address"}],
    }
    ended = api.post(f"/calls/{call_id}/end", json=bad_email)
    assert ended.status_code == 422 and secret not in ended.text
    assert ended.json()["detail"][0]["loc"][:3] == ["body", "messages", 0]


def test_a_calls_transcript_keeps_its_newest_text_within_the_cap(
    served: Served, phones: list[str]
) -> None:
    layer, api = served
    call_id = api.post("/calls", json={"phone": phones[9]}).json()["call_id"]
    words = "word " * 799  # just under 4,000 characters a turn
    cap = layer.settings.max_transcript_chars
    for n in range(cap // len(words) + 5):
        turn = api.post(
            f"/calls/{call_id}/turns", json={"speaker": "caller", "text": f"{n} {words}"}
        )
        assert turn.status_code == 201
    transcript = api.get(f"/calls/{call_id}").json()["transcript"]
    assert sum(len(t["text"]) for t in transcript) <= cap
    assert transcript[-1]["text"].startswith(f"{cap // len(words) + 4} ")  # the newest kept


def test_scorecards_are_capped_in_size_and_count(served: Served) -> None:
    _, api = served
    big = {"name": "big", "started_at": "now", "passed": True, "scorecard": {"x": "y" * 600_000}}
    assert api.post("/scenarios/results", json=big).status_code == 413
    for n in range(60):
        small = {"name": f"s{n}", "started_at": "now", "passed": True, "scorecard": {"n": n}}
        assert api.post("/scenarios/results", json=small).status_code == 201
    kept = api.get("/scenarios/results").json()["results"]
    assert len(kept) <= 50 and kept[0]["name"] == "s59"


# -- the spec ------------------------------------------------------------------------------


def test_the_openapi_document_resolves_every_ref_and_documents_the_gate(served: Served) -> None:
    _, api = served
    doc = api.get("/openapi.json").json()

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    start = doc["paths"]["/calls"]["post"]
    assert {"401", "400", "413", "415", "422", "503"} <= set(start["responses"])
    assert "401" not in doc["paths"]["/health"]["get"]["responses"]
    assert start["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StartCall"
    )
    end_body = doc["paths"]["/calls/{call_id}/end"]["post"]["requestBody"]
    assert end_body["content"]["application/json"]["schema"]["$ref"].endswith("/CallOutcome")
