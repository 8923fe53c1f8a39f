"""The two ``Transport`` implementations and the factory the composition root uses.

``aiohttp`` is the default (fastest measured here: ``python -m loadtests.transport_ceiling``);
``httpx`` stays for comparison and because ``httpx.MockTransport`` makes unit tests easy.
"""

from __future__ import annotations

from typing import Literal

from integration.transports.aiohttp_transport import AiohttpTransport
from integration.transports.base import Transport
from integration.transports.httpx_transport import HttpxTransport

__all__ = ["AiohttpTransport", "HttpxTransport", "TransportKind", "make_transport"]

TransportKind = Literal["aiohttp", "httpx"]


def make_transport(kind: TransportKind, max_connections: int) -> Transport:
    """A transport of the kind the settings name; nothing is opened until its first request."""
    if kind == "aiohttp":
        return AiohttpTransport(max_connections)
    if kind == "httpx":
        return HttpxTransport(max_connections)
    raise ValueError(f"unknown transport {kind!r}: use 'aiohttp' or 'httpx'")
