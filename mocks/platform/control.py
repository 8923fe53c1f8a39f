"""Bearer-token guard and error helpers shared by the control planes (``/_chaos``, ``/_mock``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mocks.platform.field_errors import defined_names, safe_errors
from mocks.platform.state import enterprise_of

__all__ = [
    "GUARDED",
    "control_errors",
    "require_chaos_token",
    "unknown_system",
    "validation_error_without_input",
]


def require_chaos_token(request: Request, authorization: str | None = Header(None)) -> None:
    """A dependency refusing requests without ``Authorization: Bearer <chaos token>``."""
    token = enterprise_of(request).settings.chaos_token
    scheme, _, given = (authorization or "").partition(" ")
    # Compared as bytes: a header may hold any Latin-1 character, and compare_digest
    # refuses str with non-ASCII characters.
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            status_code=401,
            detail="control endpoints need 'Authorization: Bearer <chaos token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


# For `dependencies=` of the control endpoints that change something.
GUARDED = [Depends(require_chaos_token)]


def unknown_system(known: Iterable[str], loc: tuple[str, ...]) -> HTTPException:
    """A 422 in FastAPI's own validation shape, naming the field and the known systems (the
    name that was sent is not repeated: it is the client's text, not a name we define)."""
    return HTTPException(
        status_code=422,
        detail=[
            {
                "type": "value_error",
                "loc": list(loc),
                "msg": "no system by that name is served; known systems: "
                + ", ".join(sorted(known)),
            }
        ],
    )


async def validation_error_without_input(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for the control planes, made safe (``mocks.platform.field_errors``): an
    error names the field and never echoes what was sent."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": control_errors(request, exc.errors())})


def control_errors(request: Request, errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors of a control endpoint as safe ``{"type", "loc", "msg"}`` items; the
    names of the systems served count as names the API defines."""
    names = defined_names(request.app, *enterprise_of(request).services)
    return safe_errors(errors, names)
