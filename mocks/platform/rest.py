"""HTTP conventions the ERP and loans APIs share: envelopes, cursors, ETags, idempotent writes.

- bodies: ``{"data": {...}}`` for one resource, ``{"data": [...], "next_cursor": ...}`` for
  a page (``next_cursor`` is null on the last page);
- optimistic concurrency: strong ``ETag: "<version>"``, ``If-Match`` compared strongly
  (RFC 9110 section 13.1.1), 428 when a required ``If-Match`` is absent (RFC 6585);
- writes: ``Idempotency-Key`` as in the IETF httpapi draft (422 when a key is reused with
  another payload, 409 while the first request is still running);
- auth: an ``X-Api-Key`` header, 401 problem when it is missing or wrong
  (``EnterpriseRestService`` wires that and the problem bodies into a ``MockService``);
- timestamps: ISO 8601 UTC with a ``Z``, on a clock that starts at the dataset's "now" and
  advances with the injected monotonic clock, so new records follow the seeded ones.

Nothing here is ERP-specific; it belongs in ``mocks/platform`` once the platform owners take it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.problem import PROBLEM_MEDIA_TYPE, Problem, problem_body, problem_instance
from mocks.platform.service import AuthFailure, MockService

__all__ = [
    "EnterpriseRestService",
    "SerialIds",
    "WallClock",
    "api_key_failure",
    "check_if_match",
    "decode_cursor",
    "encode_cursor",
    "etag",
    "iso",
    "page",
    "read_one",
    "require_if_match",
    "run_write",
    "stored",
]

T = TypeVar("T")
SortKey = tuple[float, str]  # (a timestamp, or 0 when only the id orders, id)
MAX_IDEMPOTENCY_KEY = 255


class WallClock:
    """Datetimes anchored at ``anchor`` that move with an injected monotonic clock."""

    def __init__(self, anchor: datetime, monotonic: Callable[[], float]) -> None:
        self._anchor = anchor
        self._monotonic = monotonic
        self._started = monotonic()

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=self._monotonic() - self._started)


def api_key_failure(headers: Mapping[str, str], expected: str) -> AuthFailure | None:
    """``X-Api-Key`` checked in constant time; ``headers`` keys are lower case."""
    given = headers.get("x-api-key")
    if not given:
        return AuthFailure(401, "unauthorized", "send your API key in the X-Api-Key header")
    if not secrets.compare_digest(given.encode(), expected.encode()):
        return AuthFailure(401, "unauthorized", "the X-Api-Key is not valid")
    return None


class EnterpriseRestService(MockService):
    """A system in this style: ``X-Api-Key`` in, RFC 9457 problem+json out.

    Subclasses say which key they accept (``api_key``) and build their store and router.
    """

    vendor: ClassVar[str] = (
        "Generic enterprise REST API (no single vendor): JSON envelopes, RFC 9457 "
        "problem+json errors, ETag/If-Match concurrency, Idempotency-Key"
    )
    error_media_type: ClassVar[str] = PROBLEM_MEDIA_TYPE

    @abstractmethod
    def api_key(self) -> str:
        """The ``X-Api-Key`` this system accepts."""

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        return api_key_failure(headers, self.api_key())

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        return problem_body(status, reason, message, errors=[(field, message)] if field else ())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- cursors -----------------------------------------------------------------------------


def encode_cursor(key: SortKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, ident = json.loads(raw)
        return float(moment), str(ident)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise Problem(
            422,
            "validation-error",
            "the cursor is not one this API issued",
            title="Validation failed",
            errors=[("cursor", "pass the next_cursor of the previous page unchanged")],
        ) from exc


def page(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    limit: int,
    cursor: str | None,
    render: Callable[[T], dict[str, Any]],
    *,
    descending: bool = True,
) -> dict[str, Any]:
    """One page; the cursor is the last key served, so inserts never shift a page."""
    ordered = sorted(items, key=key, reverse=descending)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [
            item for item in ordered if (key(item) < after) == descending and key(item) != after
        ]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return {
        "data": [render(item) for item in chunk],
        "next_cursor": encode_cursor(key(chunk[-1])) if more and chunk else None,
    }


# -- ETags -------------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(request: Request) -> str:
    """The ``If-Match`` header, or a 428 (checked before any effect or idempotency record)."""
    value = request.headers.get("if-match")
    if not value:
        raise Problem(
            428,
            "precondition-required",
            "this operation needs an If-Match header carrying the resource's current ETag",
            errors=[("If-Match", "required: send the ETag from your last read")],
        )
    return value


def check_if_match(if_match: str | None, version: int, what: str) -> None:
    """Strong comparison: ``*`` or one listed ETag equal to the current one, else a 412."""
    if if_match is None:
        return
    current = etag(version)
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise Problem(
        412,
        "precondition-failed",
        f"{what} has changed: If-Match does not match the current ETag {current}",
        title="Precondition failed",
        errors=[("If-Match", f"stale; the current ETag is {current}")],
        headers={"ETag": current},
        current_etag=current,
    )


def read_one(request: Request, body: dict[str, Any], version: int) -> Response:
    """A single resource with its ETag; ``If-None-Match`` that still matches gets a 304."""
    tag = etag(version)
    given = request.headers.get("if-none-match")
    if given and (given.strip() == "*" or tag in [t.strip() for t in given.split(",")]):
        return Response(status_code=304, headers={"ETag": tag})
    return JSONResponse({"data": body}, headers={"ETag": tag})


# -- idempotent writes -------------------------------------------------------------------


def stored(status: int, data: dict[str, Any], **headers: str) -> StoredResponse:
    return StoredResponse(status, {"data": data}, tuple(headers.items()))


async def run_write(
    service: MockService,
    request: Request,
    params: Any,
    apply: Callable[[str | None], StoredResponse],
) -> Response:
    """Apply a write at most once per ``Idempotency-Key``; problems raised inside are kept too,
    so a retry of a refused request is refused the same way."""
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise Problem(
            422,
            "validation-error",
            "the Idempotency-Key header is malformed",
            title="Validation failed",
            errors=[("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")],
        )
    path = request.url.path
    request_print = fingerprint(request.method, path, params, request.headers.get("if-match"))

    async def applying() -> StoredResponse:
        try:
            return apply(key)
        except Problem as problem:
            headers = tuple(problem.headers.items())
            return StoredResponse(problem.status, problem.body(problem_instance(request)), headers)

    try:
        response, replayed = await service.idempotency.run(key, request_print, applying)
    except IdempotencyMismatch as exc:
        raise Problem(
            422,
            "idempotency-key-reused",
            "this Idempotency-Key was already used with a different request",
            errors=[("Idempotency-Key", "use a new key for a different request")],
        ) from exc
    except IdempotencyConflict as exc:
        raise Problem(
            409,
            "idempotency-key-in-use",
            "a request with this Idempotency-Key is still being processed; retry later",
            errors=[("Idempotency-Key", "in flight")],
        ) from exc
    headers = dict(response.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    media_type = PROBLEM_MEDIA_TYPE if response.status >= 400 else "application/json"
    return JSONResponse(
        response.body, status_code=response.status, headers=headers, media_type=media_type
    )


class SerialIds:
    """New ids that continue the seeded ones (``SO00412345`` -> ``SO00412346``)."""

    def __init__(self, existing: Sequence[str], fallback_prefix: str, width: int = 8) -> None:
        prefix, number, digits = fallback_prefix, 10 ** (width - 1), width
        highest = -1
        for ident in existing:
            match = re.fullmatch(r"(\D*)(\d+)", ident)
            if match and int(match[2]) > highest:
                highest = int(match[2])
                prefix, number, digits = match[1], highest, len(match[2])
        self._prefix, self._number, self._digits = prefix, number, digits

    def next(self) -> str:
        self._number += 1
        return f"{self._prefix}{self._number:0{self._digits}d}"
