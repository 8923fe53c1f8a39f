"""Fixtures shared by every test layer.

The mock enterprise is served once per session by uvicorn on a free loopback port; it is
started only when a test asks for it (unit tests never do). Integration and contract tests
get a clean slate before each test from their own autouse ``clean_mocks`` fixture.

The layer's store runs on SQLite and on PostgreSQL: ``store_url`` gives each test that
asks for it both, a PostgreSQL server (Debian's, started by ``loadtests.stack.postgres`` in
a temporary folder, once per session) emptied before each test. Where PostgreSQL is not
installed those runs are skipped, unless ``SWITCHBOARD_REQUIRE_POSTGRES=1`` (CI sets it)
makes a missing server a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.serving import ServerHandle, serve_in_thread
from loadtests.stack.postgres import PostgresServer, find_pg_bin, temporary_postgres
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockSettings

CHAOS_TOKEN = "test-chaos-token"
CONTROL_HEADERS = {"Authorization": f"Bearer {CHAOS_TOKEN}"}
# The layers the tests serve in-process take these (as a deployer's settings would); the
# ones started as commands make their own in their state folder, as `make up` does.
API_TOKEN = "test-api-token-0123456789abcdef"
VAPI_SECRET = "test-vapi-secret-0123456789abcdef"
TEST_CUSTOMERS = 400
TEST_SEED = 42
REQUIRE_POSTGRES = os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session (only if a test asks for it)."""
    if find_pg_bin() is None:
        why = "PostgreSQL is not installed (apt-get install postgresql)"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{why}, and SWITCHBOARD_REQUIRE_POSTGRES=1 requires it")
        pytest.skip(why)
    with temporary_postgres() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'layer.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    server.reset()
    return server.url


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
