"""Bearer-token guard and error helpers shared by the control planes (``/_chaos``, ``/_mock``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from fastapi import Header, HTTPException

__all__ = ["require_token", "unknown_system"]


def require_token(token: str) -> Callable[[str | None], None]:
    """A dependency refusing requests without ``Authorization: Bearer <token>``."""

    def check(authorization: str | None = Header(None)) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given, token):
            raise HTTPException(
                status_code=401,
                detail="control endpoints need 'Authorization: Bearer <chaos token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


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
