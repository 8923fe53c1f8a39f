"""The whole stack as processes on free loopback ports, as `switchboard up` would start it,
for the browser tests that need one of their own."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.supervisor import Part, Supervisor
from integration.access import API_TOKEN_ENV, VAPI_SECRET_ENV
from tests.conftest import API_TOKEN, VAPI_SECRET

__all__ = ["CUSTOMERS", "SEED", "free_port", "served_stack"]

CUSTOMERS, SEED = 200, 42


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_stack(state: Path, chaos_token: str) -> Iterator[dict[str, Any]]:
    """The mocks, the layer and the dashboard; yields their URLs and, under ``log``, the
    lines the parts printed."""
    ports = {name: free_port() for name in ("mocks", "integration", "dashboard")}
    urls: dict[str, Any] = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    lines: list[str] = []
    env = {
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_CHAOS_TOKEN": chaos_token,
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(state),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": f"sqlite:///{state / 'enterprise.db'}",
        "SWITCHBOARD_DASHBOARD_LOCUST_URL": "http://127.0.0.1:9",
        API_TOKEN_ENV: API_TOKEN,
        VAPI_SECRET_ENV: VAPI_SECRET,
    }
    mocks = ("mocks", "--port", str(ports["mocks"]), "--customers", str(CUSTOMERS))
    dashboard = (
        "dashboard",
        "--port",
        str(ports["dashboard"]),
        "--integration-url",
        urls["integration"],
        "--mocks-url",
        urls["mocks"],
    )
    supervisor = Supervisor(
        [
            Part("mocks", (*mocks, "--seed", str(SEED)), f"{urls['mocks']}/_mock/health", 60),
            Part(
                "integration",
                ("integration", "--port", str(ports["integration"]), "--mocks-url", urls["mocks"]),
                f"{urls['integration']}/health",
                60,
            ),
            Part("dashboard", dashboard, f"{urls['dashboard']}/_stcore/health", 60),
        ],
        env=env,
        out=lines.append,
    )
    try:
        supervisor.start()
        urls["log"] = lines
        yield urls
    finally:
        supervisor.stop()
