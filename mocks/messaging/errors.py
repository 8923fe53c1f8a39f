"""Twilio's error shape: ``{"code", "message", "more_info", "status"}`` with a numeric code.

The codes are Twilio's own where Twilio has one for the case (20003 bad credentials,
21211 bad ``To``...), so an integration that branches on ``code`` behaves as in production.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = [
    "TwilioError",
    "TwilioErrorBody",
    "TwilioErrorRoute",
    "error_response",
    "twilio_error_body",
]

# Generic codes for statuses raised by the gateway (injected faults, quota) or the system app
# (no route): Twilio's 20xxx family mirrors the HTTP status (20404, 20429, 20500, 20503),
# except 401 -> 20003 and 405 -> 20004.
_STATUS_CODES = {401: 20003, 403: 20403, 404: 20404, 405: 20004, 409: 20409, 429: 20429}


def twilio_error_body(status: int, code: int | None, message: str) -> dict[str, Any]:
    code = code if code is not None else _STATUS_CODES.get(status, 20000 + status)
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioError(Exception):
    """Raised by the routes; turned into Twilio's body by :func:`error_response`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return twilio_error_body(self.status, self.code, self.message)


def error_response(error: TwilioError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


class TwilioErrorRoute(APIRoute):
    """Routes whose ``TwilioError`` leaves in Twilio's body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_twilio_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except TwilioError as error:
                return error_response(error)

        return rendering_twilio_errors


class TwilioErrorBody(BaseModel):
    """``twilio_error_body``'s shape, for the OpenAPI document."""

    code: int  # Twilio's error code: 21211 bad To, 20003 bad credentials...
    message: str
    more_info: str
    status: int
    detail: str | None = None  # only on 401s
