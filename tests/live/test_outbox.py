"""The write path over real HTTP: ending calls, delivering effects, dead letters, replay.

The integration service runs in front of the session mocks with a quick outbox policy
(short backoffs, few attempts) so a retry horizon passes in a second, not minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from integration.bootstrap import Integration
from integration.policies.models import DEFAULT_POLICY_FILE
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer

CARD = "4242424242424242"
QUICK_OUTBOX = {
    "retry": {"max_attempts": 4, "base_ms": 20, "cap_ms": 80, "max_retry_after_s": 1},
    "poll_ms": 20,
    "breaker_wait_s": 0.1,
    "lease_s": 10,
}


def outbox_policies(
    tmp_path: Path, *, systems: dict[str, dict[str, Any]] | None = None, **outbox: Any
) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    raw["outbox"] = {**QUICK_OUTBOX, **outbox}
    for name, override in (systems or {}).items():
        raw["systems"][name].update(override)
    path = tmp_path / "policies.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    policies = outbox_policies(tmp_path)
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as pair:
        yield pair


@pytest.fixture
def api(served: tuple[Integration, httpx.Client]) -> httpx.Client:
    return served[1]


@pytest.fixture
def phones(enterprise: MockEnterprise) -> list[str]:
    return [c.phone_e164 for c in enterprise.context.dataset.customers[:50]]


_calls = iter(range(1_000_000))


def start(api: httpx.Client, phone: str) -> str:
    call_id = f"t-{time.time_ns()}-{next(_calls)}"
    response = api.post("/calls", json={"phone": phone, "call_id": call_id})
    assert response.status_code == 201, response.text
    return call_id


def slot(n: int) -> dict[str, str]:
    begins = (
        datetime(2032, 3, 1, 9, tzinfo=UTC)
        + timedelta(hours=n)
        + timedelta(
            minutes=time.time_ns() % 1_000_000  # another slot on every run against one server
        )
    )
    return {
        "start": begins.isoformat(),
        "end": (begins + timedelta(minutes=30)).isoformat(),
        "summary": "Branch appointment",
    }


def end(
    api: httpx.Client, call_id: str, outcome: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    response = api.post(f"/calls/{call_id}/end", json=outcome)
    assert response.status_code == status, response.text
    return response.json()


def effect(api: httpx.Client, call_id: str, name: str) -> dict[str, Any]:
    found = api.get("/outbox/effects", params={"call_id": call_id}).json()["effects"]
    return next(e for e in found if e["name"] == name)


def wait_until(check: Callable[[], Any], timeout_s: float = 15.0, what: str = "condition") -> Any:
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached in {timeout_s} s")


def wait_status(
    api: httpx.Client, call_id: str, name: str, status: str, timeout_s: float = 15.0
) -> dict[str, Any]:
    return wait_until(
        lambda: (e := effect(api, call_id, name))["status"] == status and e,
        timeout_s,
        f"{call_id}/{name} {status}",
    )


def applied(control: httpx.Client, system: str, key: str) -> list[dict[str, Any]]:
    ledger = control.get(f"/_mock/{system}/ledger").json()
    assert ledger["duplicate_keys"] == []
    return [e for e in ledger["entries"] if e["idempotency_key"] == key]


# -- ending a call -------------------------------------------------------------------------


def test_ending_a_call_lists_durable_effects_and_delivers_each_once(
    api: httpx.Client, control: httpx.Client, phones: list[str]
) -> None:
    call_id = start(api, phones[0])
    outcome = {
        "disposition": "booked",
        "booking": slot(0),
        "messages": [{"channel": "sms", "to": "+14155550100"}],
        "slack": {"channel": "#voice-agent", "text": "booked"},
    }
    body = end(api, call_id, outcome)
    names = {e["name"]: e for e in body["effects"]}
    assert {"booking", "message_1", "slack", "analytics"} <= set(names)
    assert names["message_1"]["depends_on"] == ["booking"]
    assert all(e["idempotency_key"] == f"sb:{call_id}:{e['name']}" for e in body["effects"])

    for name, e in names.items():
        wait_status(api, call_id, name, "delivered")
        assert len(applied(control, e["system"], e["idempotency_key"])) >= 1, name

    again = end(api, call_id, outcome, status=200)  # the same outcome: the same effects
    assert [e["id"] for e in again["effects"]] == [e["id"] for e in body["effects"]]
    other = api.post(f"/calls/{call_id}/end", json={"disposition": "abandoned"})
    assert other.status_code == 409


def test_bad_input_is_refused_with_the_field_named(api: httpx.Client, phones: list[str]) -> None:
    assert api.post("/calls/nobody/end", json={}).status_code == 404
    call_id = start(api, phones[1])
    bad = api.post(f"/calls/{call_id}/end", json={"booking": {"start": "tomorrow"}})
    assert bad.status_code == 422
    assert any("booking" in e["loc"] for e in bad.json()["detail"])
    bad_phone = api.post(
        f"/calls/{call_id}/end", json={"messages": [{"channel": "sms", "to": "12"}]}
    )
    assert bad_phone.status_code == 422 and "messages" in bad_phone.text
    # Nothing was written for the refused outcomes: a good one is still accepted.
    end(api, call_id, {"disposition": "resolved"})


# -- failures ------------------------------------------------------------------------------


def test_a_system_down_past_the_retry_horizon_dead_letters_then_replays_exactly_once(
    api: httpx.Client, control: httpx.Client, phones: list[str]
) -> None:
    control.post("/_chaos/systems/slack/outage", json={"seconds": 120}).raise_for_status()
    call_id = start(api, phones[2])
    end(api, call_id, {"slack": {"channel": "#voice-agent", "text": "hello"}})
    dead = wait_status(api, call_id, "slack", "dead")
    assert dead["dead_reason"] == "max_attempts" and dead["attempts"] == 4
    assert "unavailable" in dead["last_error"]
    wait_status(api, call_id, "analytics", "delivered")  # other systems were not held up
    assert applied(control, "slack", dead["idempotency_key"]) == []
    listed = api.get("/outbox/dead", params={"system": "slack"}).json()["effects"]
    assert dead["id"] in [e["id"] for e in listed]

    control.post("/_chaos/reset").raise_for_status()  # the vendor recovers
    replay = api.post("/outbox/dead/replay", params={"system": "slack"})
    assert replay.status_code == 200 and dead["id"] in replay.json()["replayed"]
    wait_status(api, call_id, "slack", "delivered")
    assert len(applied(control, "slack", dead["idempotency_key"])) == 1
    assert api.post(f"/outbox/dead/{dead['id']}/replay").status_code == 409
    assert api.post("/outbox/dead/999999999/replay").status_code == 404
    assert api.post("/outbox/dead/replay", params={"system": "nope"}).status_code == 422


def test_a_revoked_token_dead_letters_at_once_and_replays_exactly_once_when_renewed(
    api: httpx.Client, control: httpx.Client, phones: list[str]
) -> None:
    revoked = {"errors": {"rate": 1, "kinds": {"revoked": 1}}}
    control.put("/_chaos/systems/slack", json=revoked).raise_for_status()
    call_id = start(api, phones[3])
    end(api, call_id, {"slack": {"channel": "#voice-agent", "text": "hello"}})
    dead = wait_status(api, call_id, "slack", "dead")
    # One attempt, not the retry horizon: Slack said no retry will change it.
    assert dead["dead_reason"] == "rejected" and dead["attempts"] == 1
    assert dead["last_error"] == "rejected: slack.post_message: token_revoked"
    assert applied(control, "slack", dead["idempotency_key"]) == []

    control.delete("/_chaos/systems/slack").raise_for_status()  # a new token is in place
    replay = api.post(f"/outbox/dead/{dead['id']}/replay")
    assert replay.status_code == 200 and replay.json()["replayed"] == [dead["id"]]
    delivered = wait_status(api, call_id, "slack", "delivered")
    assert delivered["attempts"] == 1  # replay starts its count afresh
    assert len(applied(control, "slack", dead["idempotency_key"])) == 1


def test_a_429_storm_is_ridden_out_honouring_retry_after(
    mocks_url: str,
    mock_settings: MockSettings,
    tmp_path: Path,
    control: httpx.Client,
    phones: list[str],
) -> None:
    storm = {"errors": {"rate": 0.5, "kinds": {"429": 1}, "retry_after_s": 1}}
    control.put("/_chaos/systems/calendar", json=storm).raise_for_status()
    policies = outbox_policies(tmp_path, retry={"max_attempts": 14, "base_ms": 20, "cap_ms": 80})
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as (_, api):
        calls = [start(api, phones[3 + n]) for n in range(6)]
        for n, call_id in enumerate(calls):
            end(api, call_id, {"booking": slot(10 + n)})
        booked = [wait_status(api, c, "booking", "delivered", 30) for c in calls]
        assert max(e["attempts"] for e in booked) > 1
        for e in booked:
            assert len(applied(control, "calendar", e["idempotency_key"])) == 1
        waits = [
            ev["detail"]["next_attempt_in_s"]
            for ev in api.get("/events", params={"kind": "outbox", "limit": 5000}).json()["events"]
            if ev["outcome"] == "rate_limited"
        ]
    served_429 = control.get("/_chaos/stats").json()["systems"]["calendar"]
    assert served_429["faults_by_kind"].get("429", 0) >= 1
    assert waits and all(w == pytest.approx(1.0) for w in waits)  # exactly the Retry-After


def test_the_confirmation_waits_for_the_calendar_event_and_quotes_its_id(
    api: httpx.Client, control: httpx.Client, phones: list[str], mocks_url: str
) -> None:
    control.put(
        "/_chaos/systems/calendar", json={"latency": {"kind": "fixed", "ms": 300}}
    ).raise_for_status()
    call_id = start(api, phones[10])
    end(api, call_id, {"booking": slot(20), "messages": [{"channel": "sms", "to": "+14155550101"}]})
    booking = wait_status(api, call_id, "booking", "delivered")
    sms = wait_status(api, call_id, "message_1", "delivered")
    [calendar_entry] = applied(control, "calendar", booking["idempotency_key"])
    [sms_entry] = applied(control, "messaging", sms["idempotency_key"])
    assert calendar_entry["at"] < sms_entry["at"]
    sent = httpx.get(
        f"{mocks_url}/messaging/2010-04-01/Accounts/{_twilio_sid()}/Messages/{sms['result']['sid']}.json",
        auth=(_twilio_sid(), _twilio_token()),
    ).json()
    assert booking["result"]["id"] in sent["body"]


def test_a_dead_booking_takes_its_confirmation_along_and_replay_brings_both(
    api: httpx.Client, control: httpx.Client, phones: list[str]
) -> None:
    control.post("/_chaos/systems/calendar/outage", json={"seconds": 120}).raise_for_status()
    call_id = start(api, phones[11])
    end(api, call_id, {"booking": slot(30), "messages": [{"channel": "sms", "to": "+14155550102"}]})
    wait_status(api, call_id, "booking", "dead")
    sms = effect(api, call_id, "message_1")
    assert (
        sms["status"] == "dead" and sms["dead_reason"] == "dependency_dead" and sms["attempts"] == 0
    )
    assert (
        control.get("/_chaos/stats").json()["systems"].get("messaging", {}).get("requests", 0) == 0
    )

    control.post("/_chaos/reset").raise_for_status()
    replayed = api.post(f"/outbox/dead/{effect(api, call_id, 'booking')['id']}/replay").json()
    assert sms["id"] in replayed["replayed"]
    wait_status(api, call_id, "message_1", "delivered")
    assert len(applied(control, "messaging", sms["idempotency_key"])) == 1


def test_two_dispatchers_on_one_outbox_never_send_an_effect_twice(
    mocks_url: str,
    mock_settings: MockSettings,
    tmp_path: Path,
    control: httpx.Client,
    phones: list[str],
) -> None:
    # Forty effects wait before either dispatcher starts; ten at a time each, a slow vendor:
    # both dispatchers are claiming from the same rows at the same time.
    ten_at_a_time = {"analytics": {"bulkhead": {"max_concurrent": 10}}}
    policies = outbox_policies(tmp_path, systems=ten_at_a_time)
    with serve_layer(
        mocks_url, mock_settings, tmp_path, policies_file=policies, dispatcher=False
    ) as (_, api):
        calls = [start(api, phones[n % len(phones)]) for n in range(40)]
        for call_id in calls:  # each ends with one analytics event (and a CRM call log)
            end(api, call_id, {"disposition": "resolved"})
    slow = {"latency": {"kind": "fixed", "ms": 300}}
    control.put("/_chaos/systems/analytics", json=slow).raise_for_status()
    with (
        serve_layer(
            mocks_url, mock_settings, tmp_path, policies_file=policies, worker_name="one"
        ) as (first, api),
        serve_layer(
            mocks_url, mock_settings, tmp_path, policies_file=policies, worker_name="two"
        ) as (second, _),
    ):
        for call_id in calls:
            wait_status(api, call_id, "analytics", "delivered", 30)
        assert first.dispatcher is not None and second.dispatcher is not None
        by_each = (first.dispatcher.delivered, second.dispatcher.delivered)
    requests = control.get("/_chaos/stats").json()["systems"]["analytics"]["requests"]
    assert requests == len(calls)  # one request per effect: never sent by both
    assert min(by_each) > 0, by_each  # and both did deliver


# -- card data ------------------------------------------------------------------------------


def test_card_numbers_never_appear_in_clear(
    served: tuple[Integration, httpx.Client],
    control: httpx.Client,
    phones: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    layer, api = served
    card = {"number": CARD, "exp_month": 12, "exp_year": 2030}
    live = start(api, phones[12])
    payment = {"amount": 4200, "currency": "usd", "card": card}
    body = end(api, live, {"disposition": "payment", "payment": payment})
    manual = start(api, phones[13])
    manual_body = end(
        api,
        manual,
        {
            "disposition": "callback",
            "payment": {
                "amount": 9900,
                "currency": "usd",
                "card": {**card, "number": "5555555555554444"},
                "manual": True,
            },
        },
    )
    assert manual_body["manual_payment"]["last4"] == "4444"
    charged = wait_status(api, live, "payment", "delivered")
    assert charged["result"]["last4"] == "4242"
    wait_status(api, manual, "payment_callback", "delivered")
    bad = api.post(
        f"/calls/{start(api, phones[14])}/end",
        json={
            "payment": {
                "amount": 1,
                "currency": "usd",
                "card": {**card, "number": "4242424242424241"},
            }
        },
    )
    assert bad.status_code == 422

    listed = api.get("/payments/manual").json()["payments"]
    assert [p["last4"] for p in listed if p["call_id"] == manual] == ["4444"]
    seen = [
        str(body),
        str(manual_body),
        bad.text,
        str(listed),
        api.get("/events", params={"limit": 5000}).text,
        api.get("/outbox/effects", params={"limit": 1000}).text,
        api.get("/metrics").text,
        "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records),
    ]
    stored = layer.settings.state_dir
    seen += [path.read_bytes().decode("latin-1") for path in stored.glob("*.db*")]
    for number in (CARD, "5555555555554444", "4242424242424241"):
        assert not any(number in text for text in seen), number


def _twilio_sid() -> str:
    from integration.settings import VendorCredentials

    return VendorCredentials().twilio_account_sid


def _twilio_token() -> str:
    from integration.settings import VendorCredentials

    return VendorCredentials().twilio_auth_token
