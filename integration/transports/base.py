"""The HTTP seam: clients speak to a ``Transport``; tests and benchmarks swap it.

``AiohttpTransport`` is the default because it measured fastest on this machine (see the
README's benchmark table); ``HttpxTransport`` is kept for comparison and for httpx's
``MockTransport`` in unit tests. Both raise only ``TransportTimeout`` and
``TransportFailure``; vendor clients turn those and HTTP statuses into ``SourceError``s.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["HttpResponse", "Transport", "TransportFailure", "TransportTimeout"]


class _TransportProblem(Exception):
    # When the status line and headers did arrive before the body failed (a drop mid-body,
    # a body that trickles past the timeout), the transport passes on what they said, so
    # the client can still name the status and the injected fault.
    def __init__(
        self, message: str = "", *, status: int | None = None, injected_fault: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.injected_fault = injected_fault


class TransportTimeout(_TransportProblem):
    """No complete answer within the attempt's time."""


class TransportFailure(_TransportProblem):
    """Connection refused, reset or dropped mid-response."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def injected_fault(self) -> str | None:
        return self.headers.get("x-injected-fault")


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,  # a body as is (a SOAP envelope); headers name its type
    ) -> HttpResponse: ...

    async def aclose(self) -> None: ...
