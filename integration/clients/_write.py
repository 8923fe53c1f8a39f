"""One write request to a vendor, classified by ``VendorHttp`` plus two things writes need.

- A 409 that says the idempotency key is still being processed is not a refusal: the first
  request with that key is still running at the vendor (a lease ran out while it was in
  flight). It becomes ``SourceUnavailable``, so the effect is tried again later and then
  gets the stored answer, instead of going dead as "rejected".
- Some refusals only make sense with the vendor's body (Stripe's ``decline_code``), which
  ``VendorHttp`` has already turned into a message: ``explain`` sees the response and may
  put a better error in the first one's place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.errors import Rejected, SourceError, SourceUnavailable
from integration.transports.base import HttpResponse, Transport

__all__ = ["Explain", "send_write", "send_write_json"]

Explain = Callable[[Rejected, HttpResponse], SourceError | None]


class _KeepsLastResponse:
    """The shared transport, remembering the response it handed back (one per request, so
    concurrent requests never see each other's)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.last: HttpResponse | None = None

    async def request(self, method: str, url: str, **options: Any) -> HttpResponse:
        self.last = await self.inner.request(method, url, **options)
        return self.last

    async def aclose(self) -> None:  # the shared transport belongs to whoever made it
        return None


def _key_in_use(response: HttpResponse) -> bool:
    # Every mock (and Stripe) names the idempotency key in its 409 "in progress" body, and
    # no business conflict (a booked slot, an illegal stage change) mentions it.
    return response.status == 409 and b"idempoten" in response.body.lower()


async def send_write(
    http: VendorHttp,
    operation: str,
    attempt: AttemptState,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str],
    explain: Explain | None = None,
    **options: Any,
) -> HttpResponse:
    """``http.send`` for a write: the 2xx response, or the error the table in ``_http.py``
    names, with the two exceptions in the module doc."""
    keeper = _KeepsLastResponse(http.transport)
    once = VendorHttp(keeper, http.system, http.base_url, wall_clock=http.wall_clock)
    try:
        return await once.send(operation, attempt, method, path, headers=headers, **options)
    except Rejected as refused:
        response = keeper.last
        if response is None:
            raise
        if _key_in_use(response):
            raise SourceUnavailable(
                http.system,
                operation,
                "HTTP 409: a request with this idempotency key is still being processed",
                status=response.status,
                injected_fault=response.injected_fault,
            ) from refused
        better = explain(refused, response) if explain is not None else None
        if better is not None:
            raise better from refused
        raise


async def send_write_json(
    http: VendorHttp,
    operation: str,
    attempt: AttemptState,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str],
    explain: Explain | None = None,
    **options: Any,
) -> Any:
    """``send_write`` and the body parsed; a 2xx that is not JSON is a MalformedResponse."""
    response = await send_write(
        http, operation, attempt, method, path, headers=headers, explain=explain, **options
    )
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise http.malformed(
            operation, attempt, f"HTTP {response.status} body is not JSON: {exc}"
        ) from exc
