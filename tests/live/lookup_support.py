"""Serving a freshly built integration layer on loopback, in front of the session mocks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.serving import serve_in_thread
from integration.api.app import create_app
from integration.bootstrap import Integration, build
from integration.policies.models import DEFAULT_POLICY_FILE
from integration.settings import IntegrationSettings
from loadtests.stack.processes import free_port
from mocks.settings import MockSettings
from tests.conftest import API_TOKEN, VAPI_SECRET


def quick_policies(tmp_path: Path, **systems: dict[str, Any]) -> Path:
    """The shipped policies with some systems' settings overridden (small windows for tests)."""
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    for name, override in systems.items():
        merged = raw["systems"].setdefault(name, {})
        for key, value in override.items():
            merged[key] = {**merged.get(key, {}), **value}
    path = tmp_path / "policies.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@contextmanager
def serve_layer(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path, **overrides: Any
) -> Iterator[tuple[Integration, httpx.Client]]:
    # The port is chosen before the layer is built, so the status callbacks it asks Twilio
    # for (http://127.0.0.1:<port>/webhooks/twilio/status) reach this very server.
    build_options = overrides.pop("build_options", {})  # e.g. an injected wall_clock
    overrides.setdefault("port", free_port())
    overrides.setdefault("api_token", API_TOKEN)
    overrides.setdefault("vapi_secret", VAPI_SECRET)
    settings = IntegrationSettings(
        mocks_url=mocks_url,
        database_url=mock_settings.resolved_database_url,
        state_dir=tmp_path / "integration-state",
        **overrides,
    )
    layer = build(settings, **build_options)
    handle = serve_in_thread(create_app(layer), port=settings.port)
    try:
        with httpx.Client(base_url=handle.url, headers=api_headers(layer), timeout=30) as http:
            yield layer, http
    finally:
        handle.stop()


def api_headers(layer: Integration) -> dict[str, str]:
    """What a client of ``layer`` sends: its API token, as every client in the repo does."""
    return {"authorization": f"Bearer {layer.access.api_token}"}


def token_of(api: httpx.Client) -> str:
    """The API token ``api`` (a client ``serve_layer`` made) sends."""
    return api.headers["authorization"].removeprefix("Bearer ")
