"""The mocks answer only Host names they trust: loopback by default (what the tests and the
stack use), more through ``MockSettings.trusted_hosts`` (``SWITCHBOARD_TRUSTED_HOSTS``). A
page on another site that points a browser at them (DNS rebinding) gets a 400."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from app.serving import serve_in_thread
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockCredentials, MockSettings

PATHS = ("/eligibility/v1/products", "/_mock/health", "/_chaos/stats", "/eligibility/docs")
KEY = {"X-Api-Key": MockCredentials().eligibility_api_key, "Authorization": "Bearer x"}


def with_host(http: httpx.Client, path: str, host: str) -> httpx.Response:
    return http.get(path, headers={**KEY, "Host": host})


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8100", "10.0.0.5", "[::2]"])
def test_a_foreign_host_is_refused_everywhere(client: httpx.Client, host: str) -> None:
    for path in PATHS:
        response = with_host(client, path, host)
        assert response.status_code == 400, (path, response.text)
        assert host not in response.text


def test_loopback_names_are_answered(client: httpx.Client, mocks_url: str) -> None:
    port = urlsplit(mocks_url).port
    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"localhost:{port}", "[::1]"):
        assert with_host(client, "/eligibility/v1/products", host).status_code == 200, host


@pytest.fixture
def lan_mocks(mock_settings: MockSettings, enterprise: MockEnterprise) -> Iterator[httpx.Client]:
    settings = mock_settings.model_copy(update={"trusted_hosts": ("mocks.lan",)})
    built = build_enterprise(settings, only=["eligibility"], dataset=enterprise.context.dataset)
    server = serve_in_thread(built.app)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield http
    finally:
        server.stop()


def test_more_hosts_can_be_trusted(lan_mocks: httpx.Client) -> None:
    assert with_host(lan_mocks, "/eligibility/v1/products", "mocks.lan:8100").status_code == 200
    # The host the server binds stays trusted, whatever the list says.
    assert with_host(lan_mocks, "/eligibility/v1/products", "127.0.0.1").status_code == 200
    assert with_host(lan_mocks, "/eligibility/v1/products", "localhost").status_code == 400


def test_the_environment_names_trusted_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_TRUSTED_HOSTS", "Mocks.LAN, 10.0.0.5")
    settings = MockSettings(public_url="http://[fe80::1]:8100")
    assert settings.allowed_hosts == (
        "mocks.lan",
        "10.0.0.5",
        "127.0.0.1",
        "fe80::1",
        "[fe80::1]",
    )
    monkeypatch.setenv("SWITCHBOARD_TRUSTED_HOSTS", '["*"]')
    assert MockSettings().allowed_hosts[0] == "*"
