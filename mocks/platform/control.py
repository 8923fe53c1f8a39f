"""Bearer-token guard and error helpers shared by the control planes (``/_chaos``, ``/_mock``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from fastapi import Depends, Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mocks.platform.state import enterprise_of

__all__ = [
    "GUARDED",
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


def unknown_system(name: str, known: Iterable[str], loc: tuple[str, ...]) -> HTTPException:
    """A 422 in FastAPI's own validation shape, naming the field and the known systems."""
    return HTTPException(
        status_code=422,
        detail=[
            {
                "type": "value_error",
                "loc": list(loc),
                "msg": f"unknown system {name!r}; known systems: {', '.join(sorted(known))}",
                "input": name,
            }
        ],
    )


async def validation_error_without_input(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for the control planes, less each error's ``input``: an error names
    the field and never echoes what was sent."""
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})
