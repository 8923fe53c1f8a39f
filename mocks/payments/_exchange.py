"""The HTTP side every Stripe endpoint shares: reading forms, answering, idempotent writes.

Every answer carries ``Request-Id: req_...``; a write with an ``Idempotency-Key`` echoes
the key, and a replay says ``Idempotent-Replayed: true`` and names the ``Original-Request``.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse

from mocks.payments import errors
from mocks.payments._forms import FormError, parse_form
from mocks.payments.errors import StripeError
from mocks.payments.operations import Effect
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from mocks.payments.service import PaymentsService

__all__ = [
    "API_VERSION",
    "idempotent_write",
    "new_request_id",
    "query_params",
    "read",
    "stripe_response",
]

API_VERSION = "2024-06-20"
_MAX_KEY_CHARS = 255
_ALPHABET = string.ascii_letters + string.digits


def new_request_id() -> str:
    return "req_" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def stripe_response(
    request: Request,
    status: int,
    body: Any,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        body,
        status_code=status,
        headers={
            "Request-Id": request_id or new_request_id(),
            "Stripe-Version": request.headers.get("stripe-version", API_VERSION),
            "Cache-Control": "no-cache, no-store",
            **(headers or {}),
        },
    )


def query_params(request: Request) -> dict[str, Any]:
    try:
        return parse_form(request.query_params.multi_items())
    except FormError as exc:
        raise errors.invalid_value(exc.key, str(exc)) from exc


async def _form(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        raise StripeError(
            400,
            "invalid_request_error",
            "Invalid request: Stripe's v1 API takes application/x-www-form-urlencoded bodies "
            "(metadata[key]=value), not JSON.",
        )
    raw = await request.body()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        return parse_form(pairs)
    except UnicodeDecodeError as exc:
        raise StripeError(
            400, "invalid_request_error", "Invalid request: the body is not UTF-8 form data."
        ) from exc
    except FormError as exc:
        raise errors.invalid_value(exc.key, str(exc)) from exc


async def read(
    request: Request, answer: Callable[[dict[str, Any]], dict[str, Any]]
) -> JSONResponse:
    """A read: the query string's parameters in, a Stripe object (or error) out."""
    try:
        body = answer(query_params(request))
    except StripeError as exc:
        return stripe_response(request, exc.status, exc.body())
    return stripe_response(request, 200, body)


async def idempotent_write(
    service: PaymentsService,
    request: Request,
    prepare: Callable[[dict[str, Any]], Effect],
) -> JSONResponse:
    """Validate, then apply once per ``Idempotency-Key`` with Stripe's replay semantics."""
    request_id = new_request_id()
    key = request.headers.get("idempotency-key") or None
    try:
        if key is not None and len(key) > _MAX_KEY_CHARS:
            raise errors.invalid_value(
                "Idempotency-Key", f"Idempotency-Key must be at most {_MAX_KEY_CHARS} characters."
            )
        form = await _form(request)
        effect = prepare(form)

        async def apply() -> StoredResponse:
            try:
                status, body = await effect(key)
            except StripeError as exc:  # refused while executing: stored and replayed too
                status, body = exc.status, exc.body()
            return StoredResponse(status, body, (("request-id", request_id),))

        digest = fingerprint("POST", request.url.path, form)
        stored, replayed = await service.idempotency.run(key, digest, apply)
    except StripeError as exc:
        return stripe_response(request, exc.status, exc.body(), request_id)
    except IdempotencyMismatch:
        error = errors.idempotency_mismatch()
        return stripe_response(request, error.status, error.body(), request_id)
    except IdempotencyConflict:
        error = errors.idempotency_in_use()
        return stripe_response(request, error.status, error.body(), request_id)
    headers = {"Idempotency-Key": key} if key else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        headers["Original-Request"] = dict(stored.headers).get("request-id", "")
    return stripe_response(request, stored.status, stored.body, request_id, headers)
