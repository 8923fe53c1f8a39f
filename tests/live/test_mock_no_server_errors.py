"""No request makes a mock answer with a 5xx of its own: hostile path values, query values,
bodies and credentials are tried on every operation each system documents, and the answer
must be a 4xx (or a success), never a server error. Only the chaos engine may send 5xx, and
no fault is configured here."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials

CRED = MockCredentials()
# Values a path segment or a query value may hold: past int64, percent-encoded bytes that
# are not UTF-8 (a lone surrogate, NUL), a digit int() refuses, very long, negative.
HOSTILE_VALUES = ("9" * 30, "%ED%A0%80", "%00", "%C2%B2", "x" * 3000, "-1", "9" * 5000)
QUERY_NAMES = (
    "limit",
    "PageSize",
    "Page",
    "PageToken",
    "maxResults",
    "pageToken",
    "cursor",
    "q",
    "fields",
    "timeMin",
    "timeMax",
    "created",
    "created[gt]",
    "starting_after",
    "types",
    "StartTime>",
    "DateSent<",
    "since",
    "customer_id",
    "status",
)
HOSTILE_JSON = (
    b'{"a": NaN, "text": "\\ud800", "channel": "C0SWB0GEN", "LastName": 1e999}',
    b'{"customer_id": ' + b"9" * 5000 + b', "amount_cents": -1e999}',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"\\udc00": "x", "items": [{"id": [1]}], "timeMin": "0001-01-01T00:00:00+14:00"}',
    b'{"start": {"date": "0001-01-01", "timeZone": "Pacific/Kiritimati"}, "end": {"date": "9999-12-31", "timeZone": "Etc/GMT+12"}}',  # noqa: E501
    b'"\xed\xa0\x80"',
)
HOSTILE_FORMS = (
    b"a" + b"[b]" * 2000 + b"=1",
    b"amount=" + b"9" * 5000 + b"&currency=usd",
    b"amount=100&currency=usd&metadata[%C2%B2]=x&payment_method_types[%C2%B2]=card",
    b"channel=C0SWB0GEN&text=%ED%A0%80&limit=%C2%B2&cursor=%ED%A0%80&token=%C3%A9",
    b"To=%ED%A0%80&From=%00&Body=" + b"x" * 2000,
    b"grant_type=password&username=u&password=%C3%A9&client_id=%C3%A9",
)
HOSTILE_AUTH = (b"Bearer \xe9\xe9", b"Basic \xe9\xe9", b"Basic " + base64.b64encode(b"\xe9:\xe9"))
# DynamoDB's SigV4 headers: present, as botocore sends them (the mock checks no signature).
SIGV4 = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=switchboard/20261101/us-east-1/dynamodb/"
    "aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64,
    "X-Amz-Date": "20261101T000000Z",
}
SAMPLES = {"account_sid": CRED.twilio_account_sid, "version": "v59.0", "sobject": "Lead"}


def credentials(system: str, sf_token: str) -> dict[str, str]:
    basic = base64.b64encode(f"{CRED.twilio_account_sid}:{CRED.twilio_auth_token}".encode())
    return {
        "crm": {"Authorization": f"Bearer {sf_token}"},
        "eligibility": {"X-Api-Key": CRED.eligibility_api_key},
        "telephony": {"Authorization": f"Basic {basic.decode()}"},
        "messaging": {"Authorization": f"Basic {basic.decode()}"},
        "payments": {"Authorization": f"Bearer {CRED.stripe_secret_key}"},
        "email": {"Authorization": f"Bearer {CRED.sendgrid_api_key}"},
        "calendar": {"Authorization": f"Bearer {CRED.google_access_token}"},
        "sheets": {"Authorization": f"Bearer {CRED.google_access_token}"},
        "docstore": SIGV4 | {"X-Amz-Target": "DynamoDB_20120810.PutItem"},
        "tracker": {
            "Authorization": "Basic "
            + base64.b64encode(f"{CRED.jira_user}:{CRED.jira_api_token}".encode()).decode()
        },
        "slack": {"Authorization": f"Bearer {CRED.slack_bot_token}"},
        "analytics": {
            "Authorization": "Basic "
            + base64.b64encode(f"{CRED.segment_write_key}:".encode()).decode()
        },
        "erp": {"X-Api-Key": CRED.erp_api_key},
        "loans": {"X-Api-Key": CRED.loans_api_key},
        "middleware": {
            "client_id": CRED.middleware_client_id,
            "client_secret": CRED.middleware_client_secret,
        },
    }.get(system, {})


def operations(client: httpx.Client, system: str) -> list[tuple[str, str]]:
    document = client.get(f"/{system}/openapi.json").json()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def filled(path: str, value: str | None = None) -> str:
    for name, sample in SAMPLES.items():
        path = path.replace("{" + name + "}", value if value and name == "sobject" else sample)
    return re.sub(r"\{[^}]+\}", value or "X1", path)


class Failures:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.found: list[str] = []
        self.statuses: dict[int, int] = {}

    def send(self, method: str, url: str, **options: Any) -> None:
        response = self.client.request(method, url, **options)
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            self.found.append(f"{method} {url[:80]} -> {response.status_code} {response.text[:80]}")


@pytest.fixture
def failures(mocks_url: str) -> Iterator[Failures]:
    # A new connection for each request: one that the server closed cannot hide the next.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=mocks_url, timeout=20, limits=limits) as http:
        yield Failures(http)


def test_no_hostile_request_gets_a_server_error(
    failures: Failures, client: httpx.Client, sf: httpx.Client, enterprise: MockEnterprise
) -> None:
    sf_token = str(sf.headers["Authorization"]).split()[1]
    for system in enterprise.services:
        own = credentials(system, sf_token)
        for method, path in operations(client, system):
            url = f"/{system}{filled(path)}"
            if "{" in path:
                for value in HOSTILE_VALUES:
                    failures.send(method, f"/{system}{filled(path, value)}", headers=own)
            for name in QUERY_NAMES:
                for value in HOSTILE_VALUES[:4]:
                    failures.send(method, f"{url}?{name}={value}", headers=own)
            if method in ("POST", "PUT", "PATCH"):
                for raw in HOSTILE_JSON:
                    json_headers = {**own, "content-type": "application/json"}
                    failures.send(method, url, content=raw, headers=json_headers)
                form = {**own, "content-type": "application/x-www-form-urlencoded"}
                for raw in HOSTILE_FORMS:
                    failures.send(method, url, content=raw, headers=form)
            for header in ("authorization", "x-api-key"):
                for value in HOSTILE_AUTH:
                    failures.send(method, url, headers=[(header.encode(), value)])
    assert failures.found == []
    assert 200 in failures.statuses  # the hostile values reached the systems, not only auth


def test_no_hostile_control_request_gets_a_server_error(failures: Failures) -> None:
    control = {"Authorization": "Bearer test-chaos-token", "content-type": "application/json"}
    bodies = {
        "/_chaos/systems/crm": (
            b'{"errors": {"rate": 1, "kinds": {"500": 1e999}}}',
            b'{"rate_limit": {"requests": 1, "per_s": 1e-320}}',
            b'{"outages": [{"start_s": 1e308, "duration_s": 1e308}]}',
            b'{"latency": {"kind": "lognormal", "p50_ms": 1e-300, "p99_ms": 1e300}}',
        ),
        "/_mock/calendar/clock": (b'{"now": "9999-12-31T23:59:59+00:00"}',),
        "/_mock/slack/config": (b'{"per_channel_per_s": 1e-320, "burst": 99999999999999999999}',),
        "/_mock/payments/config": (b'{"processing_delay_s": NaN}',),
        "/_mock/crm/config/token-ttl": (b'{"seconds": 1e308}',),
        "/_mock/messaging/callbacks": (b'{"sent_after_ms": Infinity}',),
        "/_mock/crm/automations/rules": (b'{"rules": [{"name": "\\ud800"}]}',),
    }
    for path, hostile in bodies.items():
        for raw in hostile:
            failures.send("PUT", path, content=raw, headers=control)
    failures.send(
        "POST", "/_chaos/seed", content=b'{"seed": ' + b"9" * 5000 + b"}", headers=control
    )
    failures.send("GET", "/_mock/crm/ledger?since=" + "9" * 5000)
    failures.send("GET", "/_chaos", headers={"Authorization": "Bearer \xe9".encode("latin-1")})
    for path in (
        "/_chaos",
        "/_chaos/stats",
        "/_mock/calendar/clock",
        "/_mock/crm/automations/rules",
    ):
        failures.send("GET", path, headers=control)
    assert failures.found == []
