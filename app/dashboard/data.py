"""What the pages read, cached for a moment so many viewers cost the services one poll.

Reads go through ``st.cache_data`` with a short time to live, keyed by the service's URL
and the query, so ten open browsers refreshing every two seconds still make about one
request per endpoint per refresh. Writes (chaos controls, replays) are never cached and
drop the cache, so the next redraw shows their effect.
"""

from __future__ import annotations

from typing import Any

import httpx
import streamlit as st

from app.dashboard.api import Fetched, ServiceClient
from app.dashboard.health import HealthModel, build_model
from app.dashboard.scenario_runs import ScenarioLauncher
from app.dashboard.settings import DashboardSettings

__all__ = [
    "CACHE_TTL_S",
    "chaos",
    "chaos_profile",
    "chaos_stats",
    "clear_chaos",
    "health_model",
    "integration",
    "locust",
    "mocks",
    "read",
    "read_text",
    "scenario_launcher",
    "settings",
    "write",
]

CACHE_TTL_S = 1.5  # under the refresh period: every redraw sees fresh data, shared
WINDOW_S = 10.0  # the health model's rolling window (stated on every page that shows it)
HEALTH_TTL_S = 1.0  # the banner redraws every second: a fault shows within about two


def settings() -> DashboardSettings:
    # Read every time (it costs microseconds), so a test or a restart with other URLs
    # never sees a stale copy.
    return DashboardSettings()


@st.cache_resource(show_spinner=False)
def _http() -> httpx.Client:
    # One pooled client for the whole server; httpx's pool is safe across sessions' threads.
    return httpx.Client(limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))


@st.cache_resource(show_spinner=False)
def _launcher(integration_url: str, mocks_url: str, api_token: str) -> ScenarioLauncher:
    return ScenarioLauncher(integration_url, mocks_url, api_token)


def scenario_launcher() -> ScenarioLauncher:
    """The dashboard's one scenario runner, shared by every viewer."""
    s = settings()
    return _launcher(s.integration_url, s.mocks_url, s.api_token)


def integration() -> ServiceClient:
    s = settings()
    return ServiceClient(
        "integration service",
        s.integration_url,
        _http(),
        token=s.api_token,
        timeout_s=s.timeout_s,
    )


def mocks() -> ServiceClient:
    s = settings()
    return ServiceClient(
        "mock enterprise", s.mocks_url, _http(), token=s.chaos_token, timeout_s=s.timeout_s
    )


def locust() -> ServiceClient:
    s = settings()
    return ServiceClient("Locust web UI", s.locust_url, _http(), timeout_s=1.0)


def _client(kind: str) -> ServiceClient:
    return {"integration": integration, "mocks": mocks, "locust": locust}[kind]()


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=512)
def _cached(
    kind: str, base_url: str, path: str, params: tuple[tuple[str, Any], ...], as_text: bool
) -> Fetched:
    # base_url is part of the key so two stacks in one process never share answers.
    client = _client(kind)
    return client.text(path) if as_text else client.get(path, dict(params))


def read(kind: str, path: str, **params: Any) -> Fetched:
    """A cached GET on ``kind`` ("integration", "mocks" or "locust")."""
    base = _client(kind).base_url
    return _cached(kind, base, path, tuple(sorted(params.items())), False)


def read_text(kind: str, path: str) -> Fetched:
    return _cached(kind, _client(kind).base_url, path, (), True)


def write(kind: str, method: str, path: str, **options: Any) -> Fetched:
    """A request that changes something: never cached, and it drops the cache."""
    result = _client(kind).send(method, path, **options)
    _cached.clear()
    _health.clear()
    return result


# -- the one health model, shared by every page and every viewer -----------------------------


@st.cache_data(ttl=HEALTH_TTL_S, show_spinner=False, max_entries=8)
def _health(integration_url: str, mocks_url: str, window_s: float) -> HealthModel:
    layer = integration().get("/systems/health", {"window_s": window_s})
    chaos_plane = mocks().get("/_chaos")
    return build_model(
        layer.data if layer.ok else None,
        chaos_plane.data if chaos_plane.ok else None,
        layer_error=layer.error,
        mocks_error=chaos_plane.error,
    )


def health_model() -> HealthModel:
    """Every system's state now (``app.dashboard.health``): what every page shows."""
    s = settings()
    return _health(s.integration_url, s.mocks_url, WINDOW_S)


# -- the chaos plane, used by more than one page -------------------------------------------


def chaos() -> Fetched:
    return read("mocks", "/_chaos")


def chaos_stats() -> Fetched:
    return read("mocks", "/_chaos/stats")


def chaos_profile(system: str) -> Fetched:
    return read("mocks", f"/_chaos/systems/{system}")


def clear_chaos(system: str) -> Fetched:
    return write("mocks", "DELETE", f"/_chaos/systems/{system}")
