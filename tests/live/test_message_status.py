"""Twilio's status callbacks, end to end: a call ends with texts, the outbox sends them to
the messaging mock with a ``StatusCallback`` on the served layer, and the mock's signed
callbacks (here late, every one twice, the last two swapped) come back to
``POST /webhooks/twilio/status``. The layer shows each text's final status, counts the
duplicates and the late status, and never moves a status back; forged posts are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from integration.bootstrap import Integration
from integration.clients.messaging import twilio_signature
from integration.outbox.message_status import FINAL_STATUSES
from integration.policies.models import DEFAULT_POLICY_FILE
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer

T = TypeVar("T")
QUICK_OUTBOX = {"retry": {"max_attempts": 4, "base_ms": 20, "cap_ms": 80}, "poll_ms": 20}
UNDELIVERABLE = "+15005550011"  # the mock's test number: sent, then undelivered (30003)


@pytest.fixture
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    raw["outbox"] = {**raw.get("outbox", {}), **QUICK_OUTBOX}
    policies = tmp_path / "policies.yaml"
    policies.write_text(yaml.safe_dump(raw))
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as pair:
        yield pair


def wait_for(probe: Callable[[], T | None], timeout_s: float = 10.0) -> T:
    deadline = time.monotonic() + timeout_s
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
    return found


def metric(api: httpx.Client, name: str) -> float:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_texts_show_their_final_status_through_duplicated_reordered_callbacks(
    served: tuple[Integration, httpx.Client], control: httpx.Client, enterprise: MockEnterprise
) -> None:
    layer, api = served
    chaos = {
        "sent_after_ms": 20,
        "final_after_ms": 60,
        "delay_ms": 30,
        "duplicate_rate": 1.0,
        "reorder": True,
    }
    control.put("/_mock/messaging/callbacks", json=chaos).raise_for_status()
    phone = enterprise.context.dataset.customers[0].phone_e164
    call_id = f"cb-{time.time_ns()}"
    assert api.post("/calls", json={"phone": phone, "call_id": call_id}).status_code == 201
    outcome = {
        "disposition": "resolved",
        "messages": [
            {"channel": "sms", "to": phone},
            {"channel": "sms", "to": UNDELIVERABLE},
        ],
    }
    assert api.post(f"/calls/{call_id}/end", json=outcome).status_code == 201

    def texts_settled() -> dict[str, dict[str, Any]] | None:
        rows = api.get("/outbox/effects", params={"call_id": call_id}).json()["effects"]
        texts = {e["name"]: e for e in rows if e["system"] == "messaging"}
        settled = len(texts) == 2 and all(
            t["delivery_status"] in FINAL_STATUSES for t in texts.values()
        )
        return texts if settled else None

    texts = wait_for(texts_settled)
    assert texts["message_1"]["delivery_status"] == "delivered"
    assert texts["message_2"]["delivery_status"] == "undelivered"
    sids = {name: t["result"]["sid"] for name, t in texts.items()}
    # Every callback the mock sent (three statuses twice; two for the failed one's queued,
    # sent, undelivered: also six) was answered 200 by the layer.
    for sid in sids.values():
        log = wait_for(lambda sid=sid: _answered(control, sid, 6))
        assert {(e["attempt"], e["http_status"]) for e in log} == {(1, 200)}
        # The reorder chaos: the final status came before "sent".
        assert [e["status"] for e in log if not e["duplicated"]][-1] == "sent"
    listed = api.get("/messages/status", params={"call_id": call_id}).json()["messages"]
    by_sid = {m["message_sid"]: m for m in listed}
    delivered, undelivered = by_sid[sids["message_1"]], by_sid[sids["message_2"]]
    assert delivered | {} == delivered | {
        "status": "delivered",
        "seen": ["queued", "delivered", "sent"],
        "callbacks": 6,
        "duplicates": 3,
        "out_of_order": 1,
        "matched": True,
        "effect": "message_1",
        "error_code": None,
    }
    failed = (undelivered["status"], undelivered["error_code"], undelivered["out_of_order"])
    assert failed == ("undelivered", "30003", 1)
    assert metric(api, "switchboard_message_status_callbacks_duplicated_total") == 6
    assert metric(api, "switchboard_message_status_callbacks_out_of_order_total") == 2
    # Each callback is an event too: its verdict, and the call once the text is matched.
    events = api.get("/events", params={"kind": "callback"}).json()["events"]
    of_delivered = [e for e in events if e["detail"]["message_sid"] == sids["message_1"]]
    verdicts = sorted(e["outcome"] for e in of_delivered)
    assert verdicts == ["advanced"] * 2 + ["duplicate"] * 3 + ["out_of_order"]
    assert of_delivered[-1]["call_id"] == call_id
    assert of_delivered[-1]["detail"]["effect_id"] == texts["message_1"]["id"]
    served_at = str(api.base_url).rstrip("/")
    assert layer.settings.status_callback_url == f"{served_at}/webhooks/twilio/status"


def _answered(control: httpx.Client, sid: str, count: int) -> list[dict[str, Any]] | None:
    log = control.get("/_mock/messaging/callbacks/log", params={"message_sid": sid}).json()
    entries: list[dict[str, Any]] = log["entries"]
    return entries if len(entries) >= count else None


def test_callbacks_must_be_signed_and_well_formed(served: tuple[Integration, httpx.Client]) -> None:
    layer, api = served
    url = layer.settings.status_callback_url
    assert url is not None
    token = layer.settings.credentials.twilio_auth_token
    sid = "SM" + "7e" * 16
    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC1"}

    def post(fields: dict[str, str], signature: str | None) -> httpx.Response:
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        return api.post("/webhooks/twilio/status", data=fields, headers=headers)

    unsigned = post(form, None)
    assert unsigned.status_code == 403 and "X-Twilio-Signature is missing" in unsigned.text
    forged = post(form, twilio_signature(url, form.items(), "someone-else's-token"))
    assert forged.status_code == 403 and "does not match" in forged.text
    refused = 'switchboard_message_status_callbacks_refused_total{reason="bad_signature"}'
    assert metric(api, refused) == 2

    for fields, named in [
        ({"MessageStatus": "sent"}, "MessageSid: missing"),
        ({**form, "MessageStatus": "teleported"}, "MessageStatus: unknown status 'teleported'"),
        ({**form, "MessageSid": "nope"}, "MessageSid: 'nope' is not a message sid"),
    ]:
        bad = post(fields, twilio_signature(url, fields.items(), token))
        assert bad.status_code == 400 and named in bad.json()["detail"], bad.text

    # A message no effect sent (yet): accepted, kept, and listed as unmatched.
    first = post(form, twilio_signature(url, form.items(), token))
    assert first.status_code == 200
    assert first.json() == {
        "message_sid": sid,
        "status": "delivered",
        "verdict": "advanced",
        "matched": False,
    }
    late = {**form, "MessageStatus": "sent"}
    assert post(late, twilio_signature(url, late.items(), token)).json()["status"] == "delivered"
    [kept] = api.get("/messages/status", params={"unmatched": True}).json()["messages"]
    assert (kept["message_sid"], kept["status"], kept["matched"]) == (sid, "delivered", False)
    # Only the two accepted posts are events; the refused ones left no trace there.
    events = api.get("/events", params={"kind": "callback"}).json()["events"]
    assert [(e["outcome"], e["call_id"], e["detail"]["recorded"]) for e in events] == [
        ("advanced", None, "delivered"),
        ("out_of_order", None, "delivered"),
    ]
