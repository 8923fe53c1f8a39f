"""Fixtures shared by every test layer.

The mock enterprise is served once per session by uvicorn on a free loopback port; it is
started only when a test asks for it (unit tests never do). Integration and contract tests
get a clean slate before each test from their own autouse ``clean_mocks`` fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.serving import ServerHandle, serve_in_thread
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockSettings

CHAOS_TOKEN = "test-chaos-token"
CONTROL_HEADERS = {"Authorization": f"Bearer {CHAOS_TOKEN}"}
TEST_CUSTOMERS = 400
TEST_SEED = 42


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def mock_settings(state_dir: Path) -> MockSettings:
    return MockSettings(
        port=0,
        customers=TEST_CUSTOMERS,
        seed=TEST_SEED,
        state_dir=state_dir,
        chaos_token=CHAOS_TOKEN,
        max_hang_s=30.0,
        slow_body_s=0.5,
        crm_token_ttl_s=3600,
    )


@pytest.fixture(scope="session")
def enterprise(mock_settings: MockSettings) -> MockEnterprise:
    # SWITCHBOARD_TEST_SYSTEMS=crm,telephony serves only those (handy while building one).
    only = os.environ.get("SWITCHBOARD_TEST_SYSTEMS")
    return build_enterprise(mock_settings, only=only.split(",") if only else None)


@pytest.fixture(scope="session")
def mock_server(enterprise: MockEnterprise) -> Iterator[ServerHandle]:
    handle = serve_in_thread(enterprise.app)
    enterprise.set_base_url(handle.url)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def mocks_url(mock_server: ServerHandle) -> str:
    return mock_server.url


@pytest.fixture
def client(mocks_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mocks_url, timeout=10.0) as http:
        yield http


@pytest.fixture
def control(mocks_url: str) -> Iterator[httpx.Client]:
    """A client for /_chaos and /_mock that carries the control token."""
    with httpx.Client(base_url=mocks_url, headers=CONTROL_HEADERS, timeout=10.0) as http:
        yield http


def reset_mocks(mocks_url: str) -> None:
    """Faults cleared, statistics zeroed, every system back to its seeded state."""
    with httpx.Client(base_url=mocks_url, headers=CONTROL_HEADERS, timeout=10.0) as http:
        http.post("/_chaos/reset").raise_for_status()
        http.post("/_mock/reset").raise_for_status()
