"""Slack's error convention: ``{"ok": false, "error": "<slug>"}``, almost always with HTTP 200.

Routes raise ``SlackError``; ``SlackErrorRoute`` renders it. Only a few failures change the
status line (429 ``ratelimited`` with ``Retry-After``, 404 ``unknown_method``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = ["SlackError", "SlackErrorBody", "SlackErrorRoute", "slack_error_body"]


def slack_error_body(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


class SlackError(Exception):
    def __init__(
        self, error: str, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(slack_error_body(self.error), self.status, headers=self.headers)


class SlackErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_slack_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SlackError as exc:
                return exc.response()

        return rendering_slack_errors


class SlackErrorBody(BaseModel):
    """Slack's error body (the OpenAPI document's shape of ``slack_error_body``)."""

    ok: Literal[False]
    error: str  # a slug: invalid_auth, channel_not_found, ratelimited...
    # "[ERROR] <field> ..." lines, when an argument was refused
    response_metadata: dict[str, list[str]] | None = None
