"""Google's JSON error envelope, and a route class that turns ``GoogleError`` into it.

Google answers every failure with ``{"error": {"code", "message", "errors": [...], "status"}}``
where ``errors[0]`` names the reason (``required``, ``conflict``...) and, for bad input,
the field (``location``). Routes raise ``GoogleError``; ``GoogleErrorRoute`` renders it, so
no FastAPI validation shape ever leaks out.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GoogleError", "GoogleErrorBody", "GoogleErrorRoute", "google_error_body"]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    410: "NOT_FOUND",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_error_body(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """``detail`` is the per-error message when it differs from the top-level one."""
    item: dict[str, Any] = {"domain": domain, "reason": reason, "message": detail or message}
    if location is not None:
        item["location"] = location
        if location_type is not None:
            item["locationType"] = location_type
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [item],
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


class GoogleError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = google_error_body(
            status, reason, message, domain=domain, location=location, location_type=location_type
        )

    @classmethod
    def required(cls, message: str, location: str) -> GoogleError:
        return cls(400, "required", message, location=location)

    @classmethod
    def invalid(cls, message: str, location: str) -> GoogleError:
        return cls(400, "invalid", message, location=location)

    @classmethod
    def bad_parameter(cls, name: str, expected: str) -> GoogleError:
        """Google quotes the value (``Invalid value 'x' for maxResults``); this names the
        parameter and says what it takes, never repeating what was sent."""
        return cls(
            400,
            "invalidParameter",
            f"Invalid value for {name}: {expected}",
            location=name,
            location_type="parameter",
        )

    @classmethod
    def not_found(cls) -> GoogleError:
        return cls(404, "notFound", "Not Found")


class GoogleErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_google_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except GoogleError as exc:
                return JSONResponse(exc.body, status_code=exc.status)

        return rendering_google_errors


# -- the shape of google_error_body, for the OpenAPI document ------------------------------


class GoogleErrorItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    domain: str
    reason: str  # required, invalid, conflict, notFound, rateLimitExceeded...
    message: str
    location: str | None = None
    location_type: str | None = Field(None, alias="locationType")


class GoogleErrorDetail(BaseModel):
    code: int
    message: str
    errors: list[GoogleErrorItem]
    status: str


class GoogleErrorBody(BaseModel):
    error: GoogleErrorDetail
