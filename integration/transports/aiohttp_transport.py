"""``Transport`` over one ``aiohttp.ClientSession`` (the default: fastest measured here)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from integration.transports._common import check_time_left, fold_headers
from integration.transports.base import HttpResponse, TransportFailure, TransportTimeout

__all__ = ["AiohttpTransport"]


class AiohttpTransport:
    """One pooled session for every vendor; at most ``max_connections`` sockets at once.

    The session is made on the first request, inside the running loop: an aiohttp session
    belongs to the loop it was made in, and building the layer must not need a loop.
    """

    def __init__(self, max_connections: int = 200) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections)
            # No session-wide timeout: each request brings its own (the attempt's).
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("an AiohttpTransport serves one event loop; build one per loop")
        return self._session

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
    ) -> HttpResponse:
        check_time_left(timeout_s)
        session = self._session_now()
        status: int | None = None
        fault: str | None = None
        try:
            async with session.request(
                method,
                url,
                headers=dict(headers) if headers else None,
                params=dict(params) if params else None,
                data=content if content is not None else dict(data) if data is not None else None,
                json=json,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                allow_redirects=False,  # as httpx: a vendor API that redirects is a surprise
            ) as response:
                status = response.status
                fault = response.headers.get("x-injected-fault")
                body = await response.read()
                return HttpResponse(status, fold_headers(response.headers.items()), body)
        # TimeoutError first: aiohttp's ServerTimeoutError is both a TimeoutError and a
        # ClientError, and TimeoutError is itself an OSError.
        except TimeoutError as exc:
            raise TransportTimeout(
                f"{method} {url}: no complete answer in {timeout_s:.3f}s",
                status=status,
                injected_fault=fault,
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            # ServerDisconnectedError, ClientPayloadError (cut mid-body), refused connects.
            raise TransportFailure(
                f"{method} {url}: {type(exc).__name__}: {exc}", status=status, injected_fault=fault
            ) from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
