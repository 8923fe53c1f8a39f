"""SendGrid's error shape, ``{"errors": [{"message", "field", "help"}]}``, and the route class
that answers a ``SendGridRefusal`` in it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = ["SendGridErrorRoute", "SendGridErrors", "SendGridRefusal"]


class SendGridRefusal(Exception):
    def __init__(self, status: int, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = list(errors)

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": self.errors}, status_code=self.status)


class SendGridErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_sendgrid_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SendGridRefusal as refusal:
                return refusal.response()

        return rendering_sendgrid_errors


class SendGridErrorItem(BaseModel):
    message: str
    field: str | None = None  # the JSON path SendGrid uses: personalizations.0.to.1.email
    help: str | None = None


class SendGridErrors(BaseModel):
    """SendGrid's error body: every problem at once."""

    errors: list[SendGridErrorItem]
