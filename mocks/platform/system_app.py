"""A mock system's vendor API as an app of its own, and the mount that puts it at ``/<name>``.

Whatever a system app answers is in its vendor's shape and media type, the framework's own
answers included:

- a path no route serves is a 404, a path served only for other methods a 405 whose
  ``Allow`` names every method the path takes, and any ``HTTPException`` leaves through the
  system's ``error_body`` (reasons ``not_found`` and ``method_not_allowed``), as the
  gateway's refusals do, never as Starlette's ``{"detail": ...}``. Routes may still end in
  a catch-all of their own where the vendor words its 404 differently (Stripe's
  "Unrecognized request URL"); this answers whatever those do not take;
- no trailing-slash redirects: a vendor answers the path it was asked (a 307 is nowhere in
  its document, and the integration layer's transports never follow one);
- its OpenAPI document shows error answers under the media type they are sent with
  (``application/problem+json`` for RFC 9457 systems).

``SystemMount`` takes every path below a system's prefix. Starlette's ``Mount`` matches
``<prefix>/{path:path}``, a ``.*`` compiled without DOTALL, so a path holding a newline
(``%0A``, decoded) slipped past it to the enclosing app's ``404 {"detail": "Not Found"}``.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount

from mocks.platform._asgi import ASGIApp
from mocks.platform.service import MockService

__all__ = ["ANY_METHOD", "SystemApp", "SystemMount"]

# For a route that answers whatever method comes (a vendor's catch-all 404).
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class SystemApp(FastAPI):
    """One system's vendor API, mounted by the registry; see the module's docstring."""

    def __init__(self, service: MockService, **options: Any) -> None:
        super().__init__(redirect_slashes=False, **options)
        self.service = service
        self.add_exception_handler(HTTPException, self._vendor_error)

    async def _vendor_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status == 405:
            reason, message = "method_not_allowed", "this path does not take that method"
            allowed = _allowed_methods(request)
            if allowed:  # every method the path takes, not only the first route's
                headers["Allow"] = ", ".join(allowed)
                message = f"this path takes {headers['Allow']} only"
        elif status == 404:
            reason, message = "not_found", "no endpoint serves this path"
        else:
            phrase = HTTPStatus(status).phrase
            reason, message = phrase.lower().replace(" ", "_"), str(exc.detail or phrase)
        body = self.service.error_body(status, reason, message)
        media_type = self.service.error_media_type
        if isinstance(body, bytes):  # a vendor that does not speak JSON (SOAP faults)
            return Response(body, status_code=status, headers=headers, media_type=media_type)
        return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:
            return self.openapi_schema
        document = super().openapi()
        media_type = self.service.error_media_type
        if media_type != "application/json":
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    _relabel_errors(operation.get("responses", {}), media_type)
        return document


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of ``request``'s app takes on its path."""
    return sorted(
        {
            method
            for route in iter_route_contexts(request.app.router.routes)
            if route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        }
    )


def _relabel_errors(responses: dict[str, Any], media_type: str) -> None:
    for status, response in responses.items():
        content = response.get("content", {})
        if status[0] in "45" and "application/json" in content:
            content[media_type] = content.pop("application/json")


class SystemMount(Mount):
    """A ``Mount`` whose prefix takes every path below it, newlines and all."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(rf"^{re.escape(self.path)}/(?P<path>.*)\Z", re.DOTALL)
