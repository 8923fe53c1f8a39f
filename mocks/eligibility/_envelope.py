"""One error envelope for every eligibility error, validation errors included.

    {"error": {"code": "invalid_request", "message": "amount_cents: ...", "param": "amount_cents",
               "details": [<FastAPI's validation errors>]}}

A router cannot register exception handlers (the registry owns the app), so the routes
use this route class, which turns FastAPI's ``RequestValidationError`` into the envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mocks.platform.field_errors import defined_names, safe_errors

__all__ = ["EligibilityError", "EnvelopeRoute", "error_response", "validation_response"]


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(status_code=status, content=body)


class EligibilityError(Exception):
    """Raised by the service; ``EnvelopeRoute`` answers it in the envelope."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param

    def response(self) -> JSONResponse:
        extra = {"param": self.param} if self.param is not None else {}
        return error_response(self.status, self.code, self.message, **extra)


def _field(loc: Sequence[Any]) -> str:
    # ("body", "amount_cents") -> "amount_cents"; a body that is not JSON at all -> "body".
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_response(exc: RequestValidationError, names: Collection[str]) -> JSONResponse:
    """The envelope for FastAPI's validation errors, made safe first: no input, and no key
    the API does not define (``mocks.platform.field_errors``)."""
    details = safe_errors(exc.errors(), names)
    first = details[0] if details else {"loc": ["body"], "msg": "invalid request", "type": ""}
    # A body that is not JSON reports the character offset as its location.
    param = "body" if first["type"] == "json_invalid" else _field(first["loc"])
    message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in details)
    return error_response(422, "invalid_request", message, param=param, details=details)


class EnvelopeRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_response(exc, defined_names(request.app))
            except EligibilityError as exc:
                return exc.response()

        return handle
