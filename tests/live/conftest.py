"""Integration tests run against the real mock enterprise on loopback, from a clean slate.

Fixtures more than one module uses live here: the transports the vendor clients run over,
an asynchronous control-plane client, and a client logged in to the mock CRM.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from integration.transports import make_transport
from integration.transports.base import Transport
from mocks.settings import MockCredentials
from tests.conftest import CONTROL_HEADERS, reset_mocks

# Before the test modules import it, so its assertions explain themselves when they fail.
pytest.register_assert_rewrite("tests.live._problem_helpers")


@pytest.fixture(autouse=True)
def clean_mocks(mocks_url: str) -> Iterator[None]:
    reset_mocks(mocks_url)
    yield


@pytest.fixture(params=["aiohttp", "httpx"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    """Each vendor-client test runs over both transports."""
    made = make_transport(request.param, 300)
    yield made
    await made.aclose()


@pytest.fixture
async def chaos(mocks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The control plane, asynchronously (the test's loop keeps running while it answers)."""
    async with httpx.AsyncClient(base_url=mocks_url, headers=CONTROL_HEADERS, timeout=10) as http:
        yield http


@pytest.fixture
def sf(mocks_url: str) -> Iterator[httpx.Client]:
    """A client logged in through the CRM's OAuth endpoint, rooted at instance_url, as an
    SDK would hold it."""
    credentials = MockCredentials()
    with httpx.Client(base_url=mocks_url, timeout=10.0) as anonymous:
        response = anonymous.post(
            "/crm/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.crm_client_id,
                "client_secret": credentials.crm_client_secret,
            },
        )
        response.raise_for_status()
        login = response.json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    with httpx.Client(base_url=login["instance_url"], headers=headers, timeout=10.0) as http:
        yield http
