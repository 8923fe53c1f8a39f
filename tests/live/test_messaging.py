"""The messaging mock (Twilio Programmable Messaging) over real HTTP, callbacks included.

Status callbacks go to a small receiver served on its own loopback port; it records every
post and answers 200 under ``/ok/...`` and 500 under ``/fail/...``. Each test posts to its
own path, so late callbacks of one test can never be counted by another.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from app.serving import serve_in_thread
from mocks.settings import MockSettings

SMS_FROM = "+18005550100"
CUSTOMER = "+14155550123"


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)

    def endpoint(self, outcome: str = "ok") -> str:
        return f"{self.url}/{outcome}/{uuid.uuid4().hex}"

    def posts_to(self, endpoint: str) -> list[dict[str, Any]]:
        return [p for p in self.posts if p["url"] == endpoint]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    posts: list[dict[str, Any]] = []

    async def record(request: Request) -> PlainTextResponse:
        form = await request.form()
        posts.append(
            {
                "url": str(request.url),
                "form": {k: str(v) for k, v in form.items()},
                "signature": request.headers.get("x-twilio-signature"),
                "token": request.headers.get("i-twilio-idempotency-token"),
            }
        )
        failing = request.path_params["outcome"] == "fail"
        return PlainTextResponse("nope" if failing else "", status_code=500 if failing else 200)

    app = Starlette(routes=[Route("/{outcome}/{name}", record, methods=["POST"])])
    handle = serve_in_thread(app)
    yield Receiver(url=handle.url, posts=posts)
    handle.stop()


@pytest.fixture
def twilio(client: httpx.Client, mock_settings: MockSettings) -> httpx.Client:
    """A client with the account's Basic credentials, like Twilio's SDK sends them."""
    creds = mock_settings.credentials
    client.auth = (creds.twilio_account_sid, creds.twilio_auth_token)
    return client


@pytest.fixture
def messages_path(mock_settings: MockSettings) -> str:
    return f"/messaging/2010-04-01/Accounts/{mock_settings.credentials.twilio_account_sid}/Messages"


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def send(
    twilio: httpx.Client, path: str, headers: dict[str, str] | None = None, /, **form: str
) -> httpx.Response:
    fields = {"To": CUSTOMER, "From": SMS_FROM, "Body": "Your appointment is confirmed.", **form}
    return twilio.post(f"{path}.json", data={k: v for k, v in fields.items() if v}, headers=headers)


def assert_twilio_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"code", "message", "more_info", "status"} <= body.keys()
    assert (body["code"], body["status"]) == (code, status)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return body


def test_sms_create_returns_twilio_message(
    twilio: httpx.Client, messages_path: str, mock_settings: MockSettings
) -> None:
    response = send(twilio, messages_path, To="(415) 555-0123")
    assert response.status_code == 201, response.text
    message = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    account = mock_settings.credentials.twilio_account_sid
    assert message["uri"] == f"/2010-04-01/Accounts/{account}/Messages/{message['sid']}.json"
    assert message["subresource_uris"]["media"] == message["uri"].replace(".json", "/Media.json")
    assert message | {} == message | {
        "status": "queued",
        "to": CUSTOMER,
        "from": SMS_FROM,
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "price": None,
        "error_code": None,
        "api_version": "2010-04-01",
        "account_sid": account,
        "date_sent": None,
    }
    assert parsedate_to_datetime(message["date_created"]).utcoffset() is not None
    fetched = twilio.get(f"{messages_path}/{message['sid']}.json")
    assert fetched.status_code == 200 and fetched.json()["sid"] == message["sid"]
    ledger = twilio.get("/_mock/messaging/ledger").json()
    assert [(e["operation"], e["resource"]) for e in ledger["entries"]] == [
        ("message.create", message["sid"])
    ]


def test_long_body_counts_segments(twilio: httpx.Client, messages_path: str) -> None:
    assert send(twilio, messages_path, Body="a" * 161).json()["num_segments"] == "2"
    assert send(twilio, messages_path, Body="é" * 160).json()["num_segments"] == "1"
    assert send(twilio, messages_path, Body="✓" * 71).json()["num_segments"] == "2"


def test_whatsapp_create(twilio: httpx.Client, messages_path: str) -> None:
    response = send(twilio, messages_path, To=f"whatsapp:{CUSTOMER}", From=f"whatsapp:{SMS_FROM}")
    assert response.status_code == 201, response.text
    message = response.json()
    assert (message["to"], message["from"]) == (f"whatsapp:{CUSTOMER}", f"whatsapp:{SMS_FROM}")
    assert message["status"] == "queued"


@pytest.mark.parametrize(
    ("to", "sender"),
    [(f"whatsapp:{CUSTOMER}", SMS_FROM), (CUSTOMER, f"whatsapp:{SMS_FROM}")],
)
def test_channels_must_match(
    twilio: httpx.Client, messages_path: str, to: str, sender: str
) -> None:
    body = assert_twilio_error(send(twilio, messages_path, To=to, From=sender), 400, 21910)
    assert "same channel" in body["message"]


@pytest.mark.parametrize(
    ("form", "code", "named"),
    [
        ({"To": ""}, 21604, "'To'"),
        # Twilio quotes a refused number; the mock names the parameter instead (no echo).
        ({"To": "12345"}, 21211, "'To' number"),
        ({"To": "+15005550001"}, 21211, "'To' number"),
        ({"To": "+15005550004"}, 21610, "unsubscribed"),
        ({"Body": ""}, 21602, "body"),
        ({"Body": "x" * 1601}, 21617, "1600"),
        ({"From": ""}, 21603, "'From'"),
        ({"From": "+1"}, 21212, "'From'"),
        ({"From": "+15005550007"}, 21606, "'From' phone number"),
        ({"StatusCallback": "not a url"}, 21609, "StatusCallback"),
        ({"MessagingServiceSid": "MG123", "From": ""}, 21701, "MessagingServiceSid"),
    ],
)
def test_validation_errors(
    twilio: httpx.Client, messages_path: str, form: dict[str, str], code: int, named: str
) -> None:
    body = assert_twilio_error(send(twilio, messages_path, **form), 400, code)
    assert named in body["message"]
    assert twilio.get("/_mock/messaging/ledger").json()["count"] == 0


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (None, "No credentials provided"),
        (("AC" + "0" * 32, "switchboard-twilio-token"), "Authenticate"),
        ("wrong-token", "Authenticate"),
    ],
)
def test_auth_errors(
    client: httpx.Client, messages_path: str, mock_settings: MockSettings, auth: Any, message: str
) -> None:
    if auth == "wrong-token":
        auth = (mock_settings.credentials.twilio_account_sid, "wrong-token")
    response = client.post(f"{messages_path}.json", data={"To": CUSTOMER}, auth=auth)
    body = assert_twilio_error(response, 401, 20003)
    assert message in body["message"]


def test_other_accounts_path_is_refused(twilio: httpx.Client) -> None:
    response = twilio.get(f"/messaging/2010-04-01/Accounts/AC{'1' * 32}/Messages.json")
    assert_twilio_error(response, 401, 20003)


def test_callbacks_arrive_in_order_and_are_signed(
    twilio: httpx.Client, messages_path: str, receiver: Receiver, mock_settings: MockSettings
) -> None:
    endpoint = receiver.endpoint()
    sid = send(twilio, messages_path, StatusCallback=endpoint).json()["sid"]
    wait_until(lambda: len(receiver.posts_to(endpoint)) == 3)
    posts = receiver.posts_to(endpoint)
    assert [p["form"]["MessageStatus"] for p in posts] == ["queued", "sent", "delivered"]
    validator = RequestValidator(mock_settings.credentials.twilio_auth_token)
    forged = RequestValidator("someone-else's-token")
    for post in posts:
        form = post["form"]
        assert form["MessageSid"] == form["SmsSid"] == sid
        assert (form["To"], form["From"], form["ApiVersion"]) == (CUSTOMER, SMS_FROM, "2010-04-01")
        assert form["AccountSid"] == mock_settings.credentials.twilio_account_sid
        assert "ErrorCode" not in form
        assert validator.validate(post["url"], form, post["signature"])
        assert not forged.validate(post["url"], form, post["signature"])
    assert len({p["token"] for p in posts}) == 3
    message = twilio.get(f"{messages_path}/{sid}.json").json()
    assert message["status"] == "delivered" and message["date_sent"] is not None
    url, params = "/_mock/messaging/callbacks/log", {"message_sid": sid}
    wait_until(lambda: twilio.get(url, params=params).json()["count"] == 3)
    log = twilio.get(url, params=params).json()
    assert [
        (e["status"], e["attempt"], e["http_status"], e["outcome"]) for e in log["entries"]
    ] == [(s, 1, 200, "delivered") for s in ("queued", "sent", "delivered")]


@pytest.mark.parametrize(
    ("to", "statuses", "error_code"),
    [
        ("+15005550010", ["queued", "failed"], "30008"),
        ("+15005550011", ["queued", "sent", "undelivered"], "30003"),
    ],
)
def test_failure_test_numbers_fail_through_callbacks(
    twilio: httpx.Client,
    messages_path: str,
    receiver: Receiver,
    to: str,
    statuses: list[str],
    error_code: str,
    mock_settings: MockSettings,
) -> None:
    endpoint = receiver.endpoint()
    response = send(twilio, messages_path, To=to, StatusCallback=endpoint)
    assert response.status_code == 201 and response.json()["status"] == "queued"
    wait_until(lambda: len(receiver.posts_to(endpoint)) == len(statuses))
    forms = [p["form"] for p in receiver.posts_to(endpoint)]
    assert [f["MessageStatus"] for f in forms] == statuses
    assert forms[-1]["ErrorCode"] == error_code
    validator = RequestValidator(mock_settings.credentials.twilio_auth_token)
    assert all(
        validator.validate(p["url"], p["form"], p["signature"]) for p in receiver.posts_to(endpoint)
    )
    message = twilio.get(f"{messages_path}/{response.json()['sid']}.json").json()
    assert (message["status"], message["error_code"]) == (statuses[-1], int(error_code))


def test_messaging_service_send_starts_accepted(
    twilio: httpx.Client, messages_path: str, receiver: Receiver, mock_settings: MockSettings
) -> None:
    service_sid = "MG" + "ab" * 16
    endpoint = receiver.endpoint()
    response = send(
        twilio, messages_path, From="", MessagingServiceSid=service_sid, StatusCallback=endpoint
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert (message["status"], message["messaging_service_sid"]) == ("accepted", service_sid)
    assert message["from"] == SMS_FROM
    wait_until(lambda: len(receiver.posts_to(endpoint)) == 4)
    posts = receiver.posts_to(endpoint)
    assert [p["form"]["MessageStatus"] for p in posts] == [
        "accepted",
        "queued",
        "sent",
        "delivered",
    ]
    validator = RequestValidator(mock_settings.credentials.twilio_auth_token)
    for post in posts:
        assert post["form"]["MessagingServiceSid"] == service_sid
        assert validator.validate(post["url"], post["form"], post["signature"])


def put_callbacks(control: httpx.Client, **settings: Any) -> dict[str, Any]:
    response = control.put("/_mock/messaging/callbacks", json=settings)
    assert response.status_code == 200, response.text
    applied: dict[str, Any] = response.json()
    return applied


def test_duplicate_rate_one_sends_every_callback_twice(
    twilio: httpx.Client, control: httpx.Client, messages_path: str, receiver: Receiver
) -> None:
    put_callbacks(control, duplicate_rate=1.0)
    endpoint = receiver.endpoint()
    send(twilio, messages_path, StatusCallback=endpoint)
    wait_until(lambda: len(receiver.posts_to(endpoint)) == 6)
    posts = receiver.posts_to(endpoint)
    assert [p["form"]["MessageStatus"] for p in posts] == [
        "queued",
        "queued",
        "sent",
        "sent",
        "delivered",
        "delivered",
    ]
    # A duplicate is the same event: same idempotency token, so receivers can drop it.
    assert [p["token"] for p in posts[::2]] == [p["token"] for p in posts[1::2]]
    # The receiver can see the last post a moment before the mock logs its answer.
    wait_until(lambda: control.get("/_mock/messaging/callbacks/log").json()["count"] == 6)
    log = control.get("/_mock/messaging/callbacks/log").json()["entries"]
    assert [e["duplicated"] for e in log] == [False, True] * 3


def test_reorder_delivers_the_final_status_first(
    twilio: httpx.Client, control: httpx.Client, messages_path: str, receiver: Receiver
) -> None:
    put_callbacks(control, reorder=True)
    endpoint = receiver.endpoint()
    sid = send(twilio, messages_path, StatusCallback=endpoint).json()["sid"]
    wait_until(lambda: len(receiver.posts_to(endpoint)) == 3)
    assert [p["form"]["MessageStatus"] for p in receiver.posts_to(endpoint)] == [
        "queued",
        "delivered",
        "sent",
    ]
    wait_until(lambda: control.get("/_mock/messaging/callbacks/log").json()["count"] == 3)
    log = control.get("/_mock/messaging/callbacks/log").json()["entries"]
    assert [(e["status"], e["reordered"]) for e in log] == [
        ("queued", False),
        ("delivered", False),
        ("sent", True),
    ]
    assert twilio.get(f"{messages_path}/{sid}.json").json()["status"] == "delivered"


def test_drop_rate_one_sends_nothing_but_logs_the_drops(
    twilio: httpx.Client, control: httpx.Client, messages_path: str, receiver: Receiver
) -> None:
    put_callbacks(control, drop_rate=1.0, sent_after_ms=0, final_after_ms=10)
    endpoint = receiver.endpoint()
    sid = send(twilio, messages_path, StatusCallback=endpoint).json()["sid"]
    wait_until(lambda: control.get("/_mock/messaging/callbacks/log").json()["count"] == 3)
    log = control.get("/_mock/messaging/callbacks/log").json()["entries"]
    assert {(e["outcome"], e["attempt"], e["http_status"]) for e in log} == {("dropped", 0, None)}
    assert receiver.posts_to(endpoint) == []
    assert twilio.get(f"{messages_path}/{sid}.json").json()["status"] == "delivered"


def test_failing_receiver_is_retried_then_recorded_failed(
    twilio: httpx.Client, control: httpx.Client, messages_path: str, receiver: Receiver
) -> None:
    put_callbacks(control, max_attempts=3, retry_backoff_ms=1, sent_after_ms=0, final_after_ms=0)
    endpoint = receiver.endpoint("fail")
    sid = send(twilio, messages_path, StatusCallback=endpoint, To="+15005550010").json()["sid"]
    wait_until(lambda: control.get("/_mock/messaging/callbacks/log").json()["count"] == 6)
    log = control.get("/_mock/messaging/callbacks/log").json()["entries"]
    assert [(e["status"], e["attempt"], e["http_status"], e["outcome"]) for e in log] == [
        (status, attempt, 500, "failed" if attempt == 3 else "retrying")
        for status in ("queued", "failed")
        for attempt in (1, 2, 3)
    ]
    assert len(receiver.posts_to(endpoint)) == 6
    assert twilio.get(f"{messages_path}/{sid}.json").json()["status"] == "failed"
    assert send(twilio, messages_path).status_code == 201  # the service is still fine


def test_unreachable_receiver_is_recorded_not_raised(
    twilio: httpx.Client, control: httpx.Client, messages_path: str
) -> None:
    put_callbacks(control, max_attempts=2, retry_backoff_ms=1, sent_after_ms=0, final_after_ms=0)
    # Port 9 (discard) on loopback has no listener here: the connection is refused.
    send(twilio, messages_path, StatusCallback="http://127.0.0.1:9/status")
    wait_until(lambda: control.get("/_mock/messaging/callbacks/log").json()["count"] == 6)
    log = control.get("/_mock/messaging/callbacks/log").json()["entries"]
    assert all(e["http_status"] is None and e["error"] for e in log)
    assert [e["outcome"] for e in log].count("failed") == 3


def test_callback_settings_are_validated_and_guarded(
    client: httpx.Client, control: httpx.Client
) -> None:
    refused: list[tuple[dict[str, Any], str]] = [
        ({"duplicate_rate": 1.5}, "duplicate_rate"),
        ({"drop_rate": -0.1}, "drop_rate"),
        ({"sent_after_ms": 100, "final_after_ms": 50}, "final_after_ms"),
        ({"reorder": "sometimes"}, "reorder"),
        ({"surprise": 1}, "*"),  # an unknown name is not repeated: "*" says "a key"
    ]
    for bad, named in refused:
        response = control.put("/_mock/messaging/callbacks", json=bad)
        assert response.status_code == 422, bad
        assert any(named in err["loc"] for err in response.json()["detail"]), response.json()
    assert client.put("/_mock/messaging/callbacks", json={"reorder": True}).status_code == 401
    put_callbacks(control, delay_ms=5, reorder=True)
    current = client.get("/_mock/messaging/callbacks").json()
    assert (current["delay_ms"], current["reorder"], current["duplicate_rate"]) == (5, True, 0)


def test_idempotent_create_replays_without_a_second_effect(
    twilio: httpx.Client, messages_path: str, receiver: Receiver
) -> None:
    endpoint = receiver.endpoint()
    first = send(twilio, messages_path, {"Idempotency-Key": "k-1"}, StatusCallback=endpoint)
    again = send(twilio, messages_path, {"Idempotency-Key": "k-1"}, StatusCallback=endpoint)
    alias = send(
        twilio, messages_path, {"I-Twilio-Idempotency-Token": "k-1"}, StatusCallback=endpoint
    )
    assert first.status_code == again.status_code == alias.status_code == 201
    assert first.json()["sid"] == again.json()["sid"] == alias.json()["sid"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = send(twilio, messages_path, {"Idempotency-Key": "k-1"}, Body="Something else")
    assert_twilio_error(other, 400, 20422)
    ledger = twilio.get("/_mock/messaging/ledger").json()
    assert ledger["count"] == 1 and ledger["entries"][0]["idempotency_key"] == "k-1"
    wait_until(lambda: len(receiver.posts_to(endpoint)) >= 3)
    time.sleep(0.2)
    assert len(receiver.posts_to(endpoint)) == 3


def test_list_pages_newest_first_and_filters(twilio: httpx.Client, messages_path: str) -> None:
    recipients = ["+14155550101", "+14155550102", "+14155550101", "+14155550103", "+14155550101"]
    sids = [send(twilio, messages_path, To=to).json()["sid"] for to in recipients]
    first = twilio.get(f"{messages_path}.json", params={"PageSize": 2})
    assert first.status_code == 200
    page = first.json()
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert page["previous_page_uri"] is None
    seen = [m["sid"] for m in page["messages"]]
    while page["next_page_uri"]:
        page = twilio.get(f"/messaging{page['next_page_uri']}").json()
        seen += [m["sid"] for m in page["messages"]]
    assert seen == sids[::-1]
    assert page["page"] == 2 and page["previous_page_uri"] is not None
    only = twilio.get(f"{messages_path}.json", params={"To": "+14155550101", "PageSize": 2}).json()
    assert [m["sid"] for m in only["messages"]] == [sids[4], sids[2]]
    assert "To=%2B14155550101" in only["next_page_uri"]
    none = twilio.get(f"{messages_path}.json", params={"DateSent": "1999-01-01"}).json()
    assert none["messages"] == []
    assert_twilio_error(
        twilio.get(f"{messages_path}.json", params={"DateSent<": "soon"}), 400, 20422
    )
    assert_twilio_error(twilio.get(f"{messages_path}.json", params={"PageSize": 0}), 400, 20422)


def test_unknown_message_is_twilio_404(twilio: httpx.Client, messages_path: str) -> None:
    body = assert_twilio_error(twilio.get(f"{messages_path}/SM{'0' * 32}.json"), 404, 20404)
    assert "was not found" in body["message"]


@pytest.mark.parametrize(("kind", "code"), [("503", 20503), ("429", 20429), ("500", 20500)])
def test_injected_faults_use_twilio_error_shape(
    twilio: httpx.Client, control: httpx.Client, messages_path: str, kind: str, code: int
) -> None:
    profile = {"errors": {"rate": 1.0, "kinds": {kind: 1.0}}}
    assert control.put("/_chaos/systems/messaging", json=profile).status_code == 200
    response = send(twilio, messages_path)
    assert response.headers["X-Injected-Fault"] == kind
    assert_twilio_error(response, int(kind), code)
    assert twilio.get("/_mock/messaging/ledger").json()["count"] == 0
