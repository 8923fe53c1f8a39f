"""Jira's error body, ``{"errorMessages": [...], "errors": {"<field>": "..."}}``, and a route
class that renders ``JiraError`` as it.

Jira puts messages about the request as a whole in ``errorMessages`` and those about one
field under its name in ``errors``. Jira often quotes the value it refused (a transition id,
a JQL word); these messages name the field and never repeat what was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = ["JiraError", "JiraErrorBody", "JiraErrorRoute", "jira_error_body"]


def jira_error_body(messages: list[str], errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"errorMessages": messages, "errors": errors or {}}


class JiraError(Exception):
    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = jira_error_body(messages or [], errors)

    @classmethod
    def field(cls, name: str, message: str) -> JiraError:
        return cls(400, [], {name: message})

    @classmethod
    def no_issue(cls) -> JiraError:
        return cls(404, ["Issue does not exist or you do not have permission to see it."])


class JiraErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_jira_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except JiraError as exc:
                return JSONResponse(exc.body, status_code=exc.status)

        return rendering_jira_errors


class JiraErrorBody(BaseModel):
    errorMessages: list[str]
    errors: dict[str, str]
