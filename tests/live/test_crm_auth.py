"""The mock CRM's OAuth 2.0 sessions over real HTTP: grants, refusals, expiry, TTL control."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest

from mocks.settings import MockCredentials

CREDS = MockCredentials()
TOKEN_PATH = "/crm/services/oauth2/token"
QUERY_PATH = "/crm/services/data/v59.0/query"
SOME_QUERY = {"q": "SELECT Id FROM Account LIMIT 1"}
SESSION_GONE = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def client_credentials(**overrides: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": CREDS.crm_client_id,
        "client_secret": CREDS.crm_client_secret,
        **overrides,
    }


def new_token(client: httpx.Client) -> str:
    response = client.post(TOKEN_PATH, data=client_credentials())
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def restore_ttl(control: httpx.Client) -> Iterator[None]:
    yield
    control.post("/_mock/crm/reset").raise_for_status()  # reset restores the configured TTL


def test_client_credentials_grant_answers_like_salesforce(
    client: httpx.Client, mocks_url: str
) -> None:
    response = client.post(TOKEN_PATH, data=client_credentials())
    assert response.status_code == 200
    body = response.json()
    assert body["instance_url"] == f"{mocks_url}/crm"
    assert body["token_type"] == "Bearer"
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13  # epoch milliseconds
    assert body["id"].startswith(f"{mocks_url}/crm/id/00D")
    # Salesforce signs id + issued_at with the client secret; clients may verify it.
    digest = hmac.new(
        CREDS.crm_client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert body["signature"] == base64.b64encode(digest).decode()
    session = bearer(body["access_token"])
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=session).is_success


def test_client_credentials_may_come_as_http_basic(client: httpx.Client) -> None:
    response = client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(CREDS.crm_client_id, CREDS.crm_client_secret),
    )
    assert response.status_code == 200, response.text


def test_password_grant_takes_any_username_and_the_client_secret(client: httpx.Client) -> None:
    form = {
        "grant_type": "password",
        "username": "agent@example.com",
        "password": CREDS.crm_client_secret,
        "client_id": CREDS.crm_client_id,
    }
    ok = client.post(TOKEN_PATH, data=form)
    assert ok.status_code == 200, ok.text
    wrong = client.post(TOKEN_PATH, data={**form, "password": "hunter2"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (client_credentials(client_secret="wrong"), "invalid_client"),
        (client_credentials(client_id="someone-else"), "invalid_client"),
        (client_credentials(client_secret=""), "invalid_client"),
        (client_credentials(grant_type="authorization_code"), "unsupported_grant_type"),
        ({}, "unsupported_grant_type"),
    ],
)
def test_bad_token_requests_get_oauth_errors(
    client: httpx.Client, form: dict[str, str], error: str
) -> None:
    response = client.post(TOKEN_PATH, data=form)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer 00Dnot-a-real-session"}, {"Authorization": "Basic eDp5"}],
)
def test_missing_or_unknown_session_is_refused_in_salesforce_shape(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.get(QUERY_PATH, params=SOME_QUERY, headers=headers)
    assert response.status_code == 401
    assert response.json() == SESSION_GONE


def test_versions_listing_needs_no_session(client: httpx.Client) -> None:
    response = client.get("/crm/services/data")
    assert response.status_code == 200
    winter_24 = {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"}
    assert winter_24 in response.json()
    assert client.get("/crm/services/data/").json() == response.json()


def test_expiring_every_session_mid_run(client: httpx.Client, control: httpx.Client) -> None:
    token = new_token(client)
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(token)).status_code == 200
    refused = client.post("/_mock/crm/tokens/expire")  # no control token
    assert refused.status_code == 401
    expired = control.post("/_mock/crm/tokens/expire")
    assert expired.status_code == 200
    assert expired.json()["expired"] >= 1 and expired.json()["live"] == 0
    response = client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == SESSION_GONE
    counts = client.get("/_mock/crm/tokens").json()
    assert counts["live"] == 0 and counts["expired"] >= 1
    # Logging in again is the cure, as with a real org.
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(new_token(client))).is_success


@pytest.mark.usefixtures("restore_ttl")
def test_sessions_expire_after_the_configured_ttl(
    client: httpx.Client, control: httpx.Client
) -> None:
    long_lived = new_token(client)
    changed = control.put("/_mock/crm/config/token-ttl", json={"seconds": 0.3})
    assert changed.status_code == 200
    assert changed.json()["ttl_s"] == 0.3
    short_lived = new_token(client)
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(short_lived)).is_success
    time.sleep(0.45)
    response = client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(short_lived))
    assert response.status_code == 401
    assert response.json() == SESSION_GONE
    # The new TTL applies to sessions issued after the change.
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(long_lived)).is_success


@pytest.mark.parametrize("body", [{"seconds": 0}, {"seconds": -5}, {}, {"seconds": "soon"}])
def test_ttl_config_is_validated(control: httpx.Client, body: dict[str, object]) -> None:
    response = control.put("/_mock/crm/config/token-ttl", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "seconds"]


def test_ttl_config_needs_the_control_token(client: httpx.Client) -> None:
    assert client.put("/_mock/crm/config/token-ttl", json={"seconds": 5}).status_code == 401


def test_sessions_survive_a_reset(client: httpx.Client, control: httpx.Client) -> None:
    token = new_token(client)
    control.post("/_mock/crm/reset").raise_for_status()
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(token)).is_success


def test_revoked_session_is_refused(client: httpx.Client) -> None:
    token = new_token(client)
    assert client.post("/crm/services/oauth2/revoke", data={"token": token}).status_code == 200
    assert client.get(QUERY_PATH, params=SOME_QUERY, headers=bearer(token)).status_code == 401
