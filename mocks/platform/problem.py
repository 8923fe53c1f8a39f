"""RFC 9457 problem details: the error shape of the ERP and loans APIs.

Every error either API sends, including FastAPI's own request validation, leaves as

    {"type", "title", "status", "detail", "instance", "errors": [{"field", "message"}]}

with ``Content-Type: application/problem+json``. A handler raises ``Problem``; routers built
with ``route_class=ProblemRoute`` turn it (and ``RequestValidationError``) into a response.
The route class is the seam because the registry owns the sub-application, so a system
cannot register exception handlers of its own. The paths and methods no route serves are
answered by the system app (``mocks.platform.system_app``) through ``error_body``, which for
these systems is ``problem_body``.

Kept free of anything ERP-specific so the loans system shares it; it belongs in
``mocks/platform`` once the platform owners take it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from mocks.platform.field_errors import defined_names, safe_errors

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "FieldError",
    "Problem",
    "ProblemDetails",
    "ProblemRoute",
    "field_name",
    "problem_body",
    "problem_instance",
    "problem_response",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
# A reserved TLD (RFC 2606): the URIs identify problem types and are never fetched.
PROBLEM_TYPE_BASE = "https://switchboard.invalid/problems/"

# Titles for the gateway's reason slugs; anything else falls back to the status phrase.
_REASON_TITLES = {
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "rate_limited": "Too Many Requests",
    "server_error": "Internal Server Error",
    "bad_gateway": "Bad Gateway",
    "unavailable": "Service Unavailable",
    "gateway_timeout": "Gateway Timeout",
    "invalid_request": "Bad Request",
    "payload_too_large": "Content Too Large",
}

FieldError = tuple[str, str]  # (field, message)


class ProblemFieldError(BaseModel):
    field: str  # as a client writes it: lines[0].sku, If-Match...
    message: str


class ProblemDetails(BaseModel):
    """``problem_body``'s shape, for the OpenAPI document (RFC 9457, with extensions)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemFieldError]


def _title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    slug: str,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Iterable[FieldError] = (),
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One problem document; ``slug`` becomes the problem type URI."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug.replace("_", "-"),
        "title": title or _REASON_TITLES.get(slug) or _title_for(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }
    if extensions:
        body.update(extensions)
    return body


class Problem(Exception):
    """Raised by handlers and stores; rendered as problem+json by ``ProblemRoute``."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.title = title
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str | None) -> dict[str, Any]:
        return problem_body(
            self.status,
            self.slug,
            self.detail,
            title=self.title,
            instance=instance,
            errors=self.errors,
            extensions=self.extensions,
        )


def problem_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def problem_instance(request: Request) -> str | None:
    """``instance`` for a problem with ``request``: the path of the operation as the API
    documents it (``/erp/api/v1/orders/{order_id}``), not the path that was asked for, whose
    ids are what the client sent."""
    route = request.scope.get("route")
    template = getattr(route, "path_format", None)
    return f"{request.scope.get('root_path', '')}{template}" if template else None


def field_name(loc: Sequence[str | int]) -> str:
    """``("body", "lines", 0, "sku")`` -> ``lines[0].sku``: the name a client would write."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _validation_problem(exc: RequestValidationError, names: Collection[str]) -> Problem:
    errors: list[FieldError] = []
    for error in safe_errors(exc.errors(), names):
        if error["type"] == "json_invalid":
            errors.append(("body", "the body is not valid JSON"))
            continue
        loc = tuple(error["loc"])
        field = field_name(loc)
        if error["type"] == "missing" and loc in (("body",), ()):
            errors.append(("body", "a JSON body is required"))
        else:
            errors.append((field, error["msg"]))
    fields = ", ".join(dict.fromkeys(field for field, _ in errors))
    return Problem(
        422,
        "validation-error",
        f"the request has invalid fields: {fields}",
        title="Validation failed",
        errors=errors,
    )


class ProblemRoute(APIRoute):
    """Routes whose failures (ours and FastAPI's validation) leave as problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_problems(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                problem = _validation_problem(exc, defined_names(request.app))
            except Problem as exc:
                problem = exc
            body = problem.body(problem_instance(request))
            return problem_response(problem.status, body, problem.headers)

        return handle_with_problems
