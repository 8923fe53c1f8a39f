"""``Transport`` over ``httpx.AsyncClient``: for comparison, and for ``httpx.MockTransport``
in unit tests (pass it as ``transport``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from integration.transports._common import check_time_left, fold_headers
from integration.transports.base import HttpResponse, TransportFailure, TransportTimeout

__all__ = ["HttpxTransport"]


class HttpxTransport:
    """One ``httpx.AsyncClient``, made on first use inside the running loop.

    httpx has no limit on a whole request (its timeouts are per phase), so the attempt's
    limit is enforced around the request with ``asyncio.timeout`` as well.
    """

    def __init__(
        self, max_connections: int = 200, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            limits = httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            )
            self._client = httpx.AsyncClient(
                limits=limits, transport=self._transport, follow_redirects=False
            )
        return self._client

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
        client = self._client_now()
        status: int | None = None
        fault: str | None = None
        try:
            async with asyncio.timeout(timeout_s):
                # Streamed, so the status and headers are known even when the body fails.
                async with client.stream(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    json=json,
                    content=content,
                    timeout=httpx.Timeout(timeout_s),
                ) as response:
                    status = response.status_code
                    fault = response.headers.get("x-injected-fault")
                    body = await response.aread()
                    return HttpResponse(status, fold_headers(response.headers.items()), body)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransportTimeout(
                f"{method} {url}: no complete answer in {timeout_s:.3f}s",
                status=status,
                injected_fault=fault,
            ) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise TransportFailure(
                f"{method} {url}: {type(exc).__name__}: {exc}", status=status, injected_fault=fault
            ) from exc

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        elif self._transport is not None:
            await self._transport.aclose()
