"""Google's error body for its newer APIs (Sheets v4), and a route class that renders it.

Sheets v4 answers every failure with ``{"error": {"code", "message", "status", "details"}}``:
``status`` is the google.rpc code name (``INVALID_ARGUMENT``, ``NOT_FOUND``,
``RESOURCE_EXHAUSTED``...), ``details`` typed objects such as ``google.rpc.BadRequest`` (the
field at fault) or ``google.rpc.ErrorInfo`` (the quota that ran out). There is no v3-style
``errors`` list. Google quotes the offending range in some messages; these never repeat what
was sent and name the field instead.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

__all__ = [
    "SheetsError",
    "SheetsErrorBody",
    "SheetsErrorRoute",
    "bad_request",
    "quota_exceeded",
    "sheets_error_body",
]

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
SERVICE = "sheets.googleapis.com"


def sheets_error_body(
    status: int, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def bad_request(message: str, field: str, description: str) -> dict[str, Any]:
    """A 400 naming ``field`` in a ``google.rpc.BadRequest`` detail."""
    violation = {"field": field, "description": description}
    return sheets_error_body(
        400, message, [{"@type": _BAD_REQUEST, "fieldViolations": [violation]}]
    )


def quota_exceeded(metric: str, limit_name: str, limit: int | None) -> dict[str, Any]:
    """Sheets' 429: which per-minute quota ran out, as ``google.rpc.ErrorInfo``."""
    metadata = {
        "service": SERVICE,
        "quota_metric": f"{SERVICE}/{metric.lower().replace(' ', '_')}",
        "quota_limit": "".join(word.capitalize() for word in limit_name.split()),
        "quota_location": "global",
    }
    if limit is not None:
        metadata["quota_limit_value"] = str(limit)
    message = (
        f"Quota exceeded for quota metric '{metric}' and limit '{limit_name}' of service "
        f"'{SERVICE}'."
    )
    info = {
        "@type": _ERROR_INFO,
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": metadata,
    }
    return sheets_error_body(429, message, [info])


class SheetsError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body

    @classmethod
    def invalid(cls, message: str, field: str, description: str) -> SheetsError:
        return cls(400, bad_request(message, field, description))

    @classmethod
    def not_found(cls) -> SheetsError:
        return cls(404, sheets_error_body(404, "Requested entity was not found."))


class SheetsErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_sheets_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SheetsError as exc:
                return JSONResponse(exc.body, status_code=exc.status)

        return rendering_sheets_errors


# -- the shape of sheets_error_body, for the OpenAPI document ------------------------------


class SheetsErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: int
    message: str
    status: str
    details: list[dict[str, Any]] | None = None


class SheetsErrorBody(BaseModel):
    error: SheetsErrorDetail
