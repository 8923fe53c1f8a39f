"""The gateway's calls to its sources: over HTTP, through the mock enterprise's own base URL.

Each mock system is its own app under ``/<name>``, behind the mocks' middleware chain; the
gateway calls its sources as a real gateway would, over loopback, so a source's own faults
(an outage, latency, a 429), its credentials and its ledger all apply on the way. Whatever
goes wrong on that hop comes back as a ``GatewayError``: the gateway's own error, which
says which source failed and how, never what the client sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["SOURCE_TIMEOUT_S", "GatewayError", "SourceAnswer", "SourceHop"]

SOURCE_TIMEOUT_S = 3.0  # a source that says nothing for this long is a 502, never a hang


class GatewayError(Exception):
    """An answer in the gateway's error shape: ``code`` is upper case (SOURCE_UNAVAILABLE)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        source: dict[str, Any] | None = None,
        fault: str | None = None,
        field: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.source = source
        self.fault = fault
        self.field = field
        self.retry_after = retry_after  # a source's Retry-After, passed on with its 429
        self.correlation_id: str | None = None  # the exchange's, set by the service


@dataclass(frozen=True, slots=True)
class SourceAnswer:
    status: int
    body: Any
    fault: str | None  # the X-Injected-Fault the source's answer carried
    replayed: bool  # the source replayed an earlier answer to the same Idempotency-Key


class SourceHop:
    """One HTTP client for every source call; opened on first use, closed at shutdown."""

    def __init__(self, timeout_s: float = SOURCE_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def open(self) -> httpx.AsyncClient:
        """The client, made now if need be (at startup: making one builds a TLS context,
        which a first caller should not wait for)."""
        if self._client is None:  # trust_env off: a proxy setting must not catch loopback calls
            self._client = httpx.AsyncClient(timeout=self.timeout_s, trust_env=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def call(
        self,
        base_url: str,
        system: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> SourceAnswer:
        """A 2xx JSON answer, or a ``GatewayError`` (the wrapping table in the service doc)."""
        if not base_url:
            raise GatewayError(
                502, "SOURCE_UNREACHABLE", f"{system}: the gateway has no route to its source"
            )
        client = self.open()
        try:
            response = await client.request(
                method, f"{base_url}/{system}{path}", headers=headers, params=params, json=json
            )
        except httpx.TimeoutException:
            raise GatewayError(
                502,
                "SOURCE_TIMEOUT",
                f"{system} did not answer within {self.timeout_s:g} s",
                source={"system": system, "status": None},
            ) from None
        except httpx.HTTPError as exc:
            raise GatewayError(
                502,
                "SOURCE_UNREACHABLE",
                f"{system} could not be reached ({type(exc).__name__})",
                source={"system": system, "status": None},
            ) from None
        fault = response.headers.get("x-injected-fault")
        _raise_for(system, response, fault)
        try:
            body = response.json()
        except ValueError:
            raise GatewayError(
                502,
                "SOURCE_MALFORMED",
                f"{system} answered {response.status_code} with a body that is not JSON",
                source={"system": system, "status": response.status_code},
                fault=fault,
            ) from None
        replayed = response.headers.get("idempotent-replayed") == "true"
        return SourceAnswer(response.status_code, body, fault, replayed)


def _raise_for(system: str, response: httpx.Response, fault: str | None) -> None:
    status, body = response.status_code, response.content
    if 200 <= status < 300:
        return
    source = {"system": system, "status": status}
    if status == 404:
        raise GatewayError(404, "NOT_FOUND", f"{system} has no such record", source=source)
    if status == 409 and b"idempotency-key-in-use" in body:
        # Not a refusal: the first request with this key is still running at the source,
        # and a client must be able to tell (it retries later instead of giving up).
        raise GatewayError(
            409,
            "IDEMPOTENCY_KEY_IN_USE",
            f"a request with this Idempotency-Key is still being processed by {system}",
            source=source,
        )
    if status == 429:  # the one source status a client can act on: wait, then retry
        raise GatewayError(
            429,
            "SOURCE_RATE_LIMITED",
            f"{system} is rate limiting the gateway",
            source=source,
            fault=fault,
            retry_after=response.headers.get("retry-after"),
        )
    if 400 <= status < 500 and status not in (401, 403, 408):
        raise GatewayError(
            422,
            "SOURCE_REJECTED",
            f"{system} refused the request (HTTP {status})",
            source=source,
            fault=fault,
        )
    raise GatewayError(
        502,
        "SOURCE_UNAVAILABLE",
        f"{system} failed (HTTP {status})",
        source=source,
        fault=fault,
    )
