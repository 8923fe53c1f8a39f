"""A request held by an injected hang or delay is let go the moment its client disconnects:
the server keeps no sleeping task for a client that has gone.

The observable is the gateway's own count of requests it holds (``held_now`` in
``/_chaos/stats``): it must fall back to zero within a moment of the client leaving, far
sooner than the hang limit (30 s in the test settings) or the injected delay.
"""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mocks.settings import MockCredentials, MockSettings

SYSTEM = "eligibility"
REQUEST = (
    f"GET /{SYSTEM}/v1/products HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n"
    f"X-Api-Key: {MockCredentials().eligibility_api_key}\r\n\r\n"
).encode()


def stats_of(control: httpx.Client) -> dict[str, Any]:
    systems: dict[str, Any] = control.get("/_chaos/stats").json()["systems"]
    return systems.get(SYSTEM, {"held_now": 0})


def wait_for(control: httpx.Client, held: int, within_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        stats = stats_of(control)
        if stats["held_now"] == held or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("fault", "profile"),
    [
        ("hang", {"errors": {"rate": 1, "kinds": {"hang": 1}}}),
        ("latency", {"latency": {"kind": "fixed", "ms": 25_000}}),
    ],
)
def test_a_held_request_ends_when_its_client_disconnects(
    control: httpx.Client,
    mocks_url: str,
    mock_settings: MockSettings,
    fault: str,
    profile: dict[str, Any],
) -> None:
    assert mock_settings.max_hang_s >= 25  # so only the disconnect can end it early
    control.put(f"/_chaos/systems/{SYSTEM}", json=profile).raise_for_status()
    address = urlsplit(mocks_url)
    connection = socket.create_connection((address.hostname, address.port))
    try:
        connection.sendall(REQUEST)
        assert wait_for(control, held=1, within_s=5)["held_now"] == 1
    finally:
        connection.close()
    left = time.monotonic()
    stats = wait_for(control, held=0, within_s=5)
    assert stats["held_now"] == 0, "the server still holds a request whose client has gone"
    assert time.monotonic() - left < 5
    assert stats["status_counts"] == {"499": 1}  # gone before any answer
    assert stats["faults_by_kind"] == {fault: 1}
    assert stats["latency_ms"]["p50"] < 10_000  # it ended with the client, not at 25-30 s
