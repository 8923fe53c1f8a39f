"""Schemathesis over the OpenAPI documents of the integration service and of every mock
system, on loopback: every operation fuzzed with data its schema allows and data it does
not, with the credentials a client has. Not one server error, and every answer as the
document says (status, media type, body)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mocks.registry import SYSTEMS
from mocks.settings import MockCredentials, MockSettings
from tests.conftest import API_TOKEN, VAPI_SECRET
from tests.live.lookup_support import serve_layer
from tests.live.test_mock_no_server_errors import SIGV4

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HEADERS = {"Authorization": f"Bearer {API_TOKEN}", "X-Vapi-Secret": VAPI_SECRET}
EXAMPLES = 40  # per operation: about 30 operations in about 15 s


@pytest.fixture(scope="module")
def base_url(
    mocks_url: str, mock_settings: MockSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serve_layer(mocks_url, mock_settings, tmp_path_factory.mktemp("fuzz")) as (_, api):
        yield str(api.base_url).rstrip("/")


@pytest.fixture(autouse=True)
def clean_mocks() -> None:
    """The fuzzer's calls leave the session mocks as they are; nothing else reads them."""


def fuzz(
    base_url: str, path: str, headers: dict[str, str], *, examples: int = EXAMPLES
) -> list[str]:
    """Every operation of the document at ``base_url + path``: the failures, one line each."""
    schema = schemathesis.openapi.from_url(f"{base_url}{path}")
    failures: list[str] = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy().map(_without_waiting))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS, headers=headers, timeout=30)

        try:
            run()
        except (AssertionError, BaseExceptionGroup) as exc:  # every operation, then all failures
            failures.append(f"{operation.label}: {_first_lines(exc)}")
    assert operations > 0, f"{path} lists no operation"
    return failures


def _without_waiting(case: schemathesis.Case) -> schemathesis.Case:
    """A long-poll's ``wait_s`` held at 0: waiting out 30 s answers nothing new, and would
    spend the whole budget."""
    if case.query and "wait_s" in case.query:
        case.query["wait_s"] = 0
    return case


def _first_lines(exc: BaseException) -> str:
    text = str(exc) or repr(exc)
    found = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(found[:14])


def test_the_integration_service_survives_its_own_fuzzer(base_url: str) -> None:
    failures = fuzz(base_url, "/openapi.json", HEADERS)
    assert not failures, "\n".join(failures)


def credentials(mocks_url: str, system: str) -> dict[str, str]:
    """What the vendor's own SDK would send: each system's fake credentials."""
    c = MockCredentials()

    def basic(user: str, password: str = "") -> dict[str, str]:
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }

    if system == "crm":
        token = httpx.post(
            f"{mocks_url}/crm/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": c.crm_client_id,
                "client_secret": c.crm_client_secret,
            },
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}
    bearer = {
        "payments": c.stripe_secret_key,
        "slack": c.slack_bot_token,
        "email": c.sendgrid_api_key,
        "calendar": c.google_access_token,
        "sheets": c.google_access_token,
    }
    keys = {"eligibility": c.eligibility_api_key, "erp": c.erp_api_key, "loans": c.loans_api_key}
    if system in bearer:
        return {"Authorization": f"Bearer {bearer[system]}"}
    if system in keys:
        return {"X-Api-Key": keys[system]}
    if system in ("telephony", "messaging"):
        return basic(c.twilio_account_sid, c.twilio_auth_token)
    if system == "analytics":
        return basic(c.segment_write_key)
    if system == "tracker":
        return basic(c.jira_user, c.jira_api_token)
    if system == "docstore":
        return dict(SIGV4)
    if system == "middleware":
        return {"client_id": c.middleware_client_id, "client_secret": c.middleware_client_secret}
    return {}


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_each_mock_system_survives_the_fuzzer(mocks_url: str, system: str) -> None:
    failures = fuzz(mocks_url, f"/{system}/openapi.json", credentials(mocks_url, system))
    assert not failures, "\n".join(failures)
