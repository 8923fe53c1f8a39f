"""The front door of the service: admission, and the hot routes served directly.

Every request passes here first, as plain ASGI. A call start (``POST /calls``) is admitted
or turned away at once (``integration.policies.admission`` decides): a refusal costs a few
microseconds, no routing, no body, no validation, because under overload refusals come by
the thousand and each must cost far less than the call it stands in for.

The routes every call uses several times (start, tools, turns, end, Vapi's webhook,
Twilio's status callbacks) are served from here too, straight to their endpoints: going
through FastAPI's routing, dependency solving and middlewares cost each request more
than a tenth of a millisecond of the event loop's time, a few per call. Each is declared
once with ``hot``: FastAPI still lists and documents it (and serves it, should the front
door be bypassed); the front door serves it. Everything else goes on to FastAPI.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from integration.errors import InvalidInput
from integration.events.metrics import Metrics
from integration.policies.admission import Admission

__all__ = ["HOT_ROUTES", "WAITED_MS", "FrontDoor", "HotRoute", "hot", "invalid_input"]

Endpoint = Callable[[Request], Awaitable[Response]]
_SEGMENT = re.compile(r"\{(\w+)\}")
# The scope key under which an admitted start finds how long it waited for a slot.
WAITED_MS = "switchboard.waited_ms"
_BUSY = orjson.dumps(
    {
        "detail": "the service is too busy to look this caller up in time; try again shortly",
    }
)


@dataclass(frozen=True)
class HotRoute:
    method: str
    path: str
    pattern: re.Pattern[str]
    endpoint: Endpoint
    starts_a_call: bool


HOT_ROUTES: list[HotRoute] = []


def hot(
    router: APIRouter,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    starts_a_call: bool = False,
    **docs: Any,
) -> Callable[[Endpoint], Endpoint]:
    """Declare ``endpoint(request) -> Response`` at ``method path``: documented by FastAPI,
    served by the front door. ``params``: each path parameter's pattern."""
    params = params or {}

    def segment(match: re.Match[str]) -> str:
        return f"(?P<{match.group(1)}>{params.get(match.group(1), '[^/]+')})"

    pattern = re.compile(
        "^" + _SEGMENT.sub(segment, re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    )
    described = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": rule},
        }
        for name, rule in params.items()
    ]

    def register(endpoint: Endpoint) -> Endpoint:
        extra = dict(docs.pop("openapi_extra", None) or {})
        if described:
            extra["parameters"] = described + list(extra.get("parameters", []))
        router.add_api_route(path, endpoint, methods=[method], openapi_extra=extra or None, **docs)
        HOT_ROUTES.append(HotRoute(method, path, pattern, endpoint, starts_a_call))
        return endpoint

    return register


class FrontDoor:
    """ASGI: admission for call starts, the hot routes, then the rest of the app."""

    def __init__(
        self, app: ASGIApp, *, admission: Admission, metrics: Metrics, routes: list[HotRoute]
    ) -> None:
        self.app = app
        self.admission = admission
        self.metrics = metrics
        self.routes = routes
        retry_after = str(admission.policy.retry_after_s).encode()
        self._busy_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_BUSY)).encode()),
            (b"retry-after", retry_after),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.starts_a_call:
                await self._admitted(route, found, scope, receive, send)
            else:
                await self._serve(route, found, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _admitted(
        self, route: HotRoute, found: re.Match[str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        refused, waited_ms = await self.admission.admit()
        if refused is not None:
            self.metrics.observe_refusal(f"{route.method} {route.path}", refused)
            await send(
                {"type": "http.response.start", "status": 503, "headers": self._busy_headers}
            )
            await send({"type": "http.response.body", "body": _BUSY})
            return
        scope[WAITED_MS] = waited_ms
        began = time.perf_counter()
        took: float | None = None
        try:
            await self._serve(route, found, scope, receive, send)
            took = waited_ms + (time.perf_counter() - began) * 1000
        finally:
            self.admission.done(took)

    async def _serve(
        self, route: HotRoute, found: re.Match[str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["path_params"] = found.groupdict()
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except HTTPException as exc:
            response = JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)
        except InvalidInput as exc:
            response = invalid_input(exc)
        await response(scope, receive, send)


def invalid_input(exc: InvalidInput) -> JSONResponse:
    """A value only the use case could judge (a phone number): 422 naming the field."""
    detail = [{"type": exc.reason, "loc": ["body", exc.field], "msg": exc.message}]
    return JSONResponse(status_code=422, content={"detail": detail})
