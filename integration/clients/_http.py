"""``VendorHttp``: one vendor's requests, and the one table that turns answers into errors.

    2xx                      the response
    401                      CredentialsRejected   (the CRM refreshes its token once first)
    404                      NotFound
    429                      SourceRateLimited     (retry_after_s from Retry-After)
    5xx                      SourceUnavailable
    any other status         Rejected
    TransportTimeout         SourceTimeout
    TransportFailure         SourceUnavailable     (refused, reset, cut mid-body)
    2xx body not JSON        MalformedResponse     (send_json only)

Every error, and the attempt, carry the status and the ``X-Injected-Fault`` the mock sent.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from integration.errors import (
    CredentialsRejected,
    MalformedResponse,
    NotFound,
    Rejected,
    SourceError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from integration.transports.base import HttpResponse, Transport, TransportFailure, TransportTimeout

__all__ = [
    "AttemptBudget",
    "AttemptState",
    "VendorHttp",
    "classify",
    "parse_retry_after",
    "vendor_message",
]

_MESSAGE_CHARS = 200


class AttemptState(Protocol):
    """What a client reads from and writes back to the executor's ``Attempt``."""

    timeout_s: float
    status: int | None
    injected_fault: str | None


class AttemptBudget:
    """What is left of one attempt's time, on the loop's clock (the one asyncio.timeout
    uses), for attempts that make more than one request (pages, a retry after a refresh)."""

    def __init__(self, timeout_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._ends_at = self._loop.time() + timeout_s

    def left(self) -> float:
        return self._ends_at - self._loop.time()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110
    10.2.3). ``now`` is wall-clock epoch seconds, as an HTTP-date is. None when unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # RFC 850 / asctime forms carry no zone: they mean GMT
            return None
        seconds = moment.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def vendor_message(body: bytes) -> str:
    """The vendor's own words from an error body, whichever shape it uses; else its start."""
    try:
        data = jsonlib.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:_MESSAGE_CHARS].decode("utf-8", "replace")
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Salesforce
        data = data[0]
    if isinstance(data, dict):
        nested = data.get("error")
        if isinstance(nested, dict):  # {"error": {"code", "message"}}
            data = nested
        for key in ("message", "detail", "error_description", "title", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value[:_MESSAGE_CHARS]
    return jsonlib.dumps(data)[:_MESSAGE_CHARS]


def classify(
    system: str, operation: str, response: HttpResponse, *, now: float
) -> SourceError | None:
    """The error a non-2xx response means (None for 2xx): the table in the module doc."""
    status = response.status
    if 200 <= status < 300:
        return None
    fault = response.injected_fault
    message = f"HTTP {status}: {vendor_message(response.body)}"
    common: dict[str, Any] = {"status": status, "injected_fault": fault}
    if status == 401:
        return CredentialsRejected(system, operation, message, **common)
    if status == 404:
        return NotFound(system, operation, message, **common)
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"), now)
        return SourceRateLimited(system, operation, message, retry_after_s=wait, **common)
    if status >= 500:
        return SourceUnavailable(system, operation, message, **common)
    return Rejected(system, operation, message, **common)


class VendorHttp:
    """Requests to one system below ``base_url``; paths starting with ``/`` are joined to it."""

    def __init__(
        self,
        transport: Transport,
        system: str,
        base_url: str,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.wall_clock = wall_clock  # only to read Retry-After HTTP-dates

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    async def send(
        self,
        operation: str,
        attempt: AttemptState,
        method: str,
        path: str,
        *,
        timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> HttpResponse:
        """One request; a 2xx comes back, anything else is raised (module doc).

        ``timeout_s`` defaults to the attempt's; pass what is left of it for a second
        request in the same attempt (a page, a retry after a token refresh).
        """
        limit = attempt.timeout_s if timeout_s is None else timeout_s
        try:
            response = await self.transport.request(
                method,
                self.url(path),
                timeout_s=limit,
                headers=headers,
                params=params,
                data=data,
                json=json,
                content=content,
            )
        except (TransportTimeout, TransportFailure) as exc:
            attempt.status, attempt.injected_fault = exc.status, exc.injected_fault
            kind = SourceTimeout if isinstance(exc, TransportTimeout) else SourceUnavailable
            raise kind(
                self.system,
                operation,
                str(exc),
                status=exc.status,
                injected_fault=exc.injected_fault,
            ) from exc
        attempt.status, attempt.injected_fault = response.status, response.injected_fault
        error = classify(self.system, operation, response, now=self.wall_clock())
        if error is not None:
            raise error
        return response

    def malformed(self, operation: str, attempt: AttemptState, message: str) -> MalformedResponse:
        """A 2xx we cannot use (JSON of the wrong shape), naming what the attempt saw."""
        return MalformedResponse(
            self.system,
            operation,
            message,
            status=attempt.status,
            injected_fault=attempt.injected_fault,
        )

    async def send_json(
        self, operation: str, attempt: AttemptState, method: str, path: str, **kw: Any
    ) -> Any:
        """``send`` and parse the body; a 2xx that is not JSON raises MalformedResponse."""
        response = await self.send(operation, attempt, method, path, **kw)
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedResponse(
                self.system,
                operation,
                f"HTTP {response.status} body is not JSON: {exc}",
                status=response.status,
                injected_fault=response.injected_fault,
            ) from exc
