"""OpenAPI documents that tell the truth about a system's errors and request bodies.

- ``error_responses(model, *statuses)``: ``responses=`` entries, each status in the vendor's
  error shape. Shapes are pydantic models, so FastAPI puts them in ``components`` and every
  ``$ref`` resolves from the document's root (a schema pasted in from ``model_json_schema``
  would carry ``#/$defs/...`` references that resolve nowhere).
- ``form_body`` / ``json_body``: ``openapi_extra`` for a body a handler reads itself (a
  Stripe or Twilio form, a body checked field by field in the vendor's words).

Every system route can answer 401 and 429 (an injected credential expiry, a quota) and any
5xx the chaos engine injects, all in the vendor's shape: ``GATEWAY_STATUSES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

__all__ = [
    "BODY_STATUSES",
    "GATEWAY_STATUSES",
    "BasicError",
    "error_responses",
    "form_body",
    "json_body",
]

# What any route of a system may answer, whatever it does: the gateway's.
GATEWAY_STATUSES: tuple[int | str, ...] = (401, 429, "4XX", "5XX")
# What a route taking a body may answer besides: the gateway's body limits.
BODY_STATUSES: tuple[int | str, ...] = (400, 413)

_DESCRIPTIONS: dict[int | str, str] = {
    400: "A parameter or the body is missing or invalid; the error names the field",
    401: "Credentials missing, wrong or expired (also injected by the chaos engine)",
    402: "The card was declined",
    403: "Not allowed",
    404: "No such resource",
    405: "Method not allowed",
    409: "Conflict: the request's Idempotency-Key is still in flight, or the state forbids it",
    410: "Gone",
    412: "Precondition failed: the If-Match ETag is stale",
    413: "The body is larger than the mocks accept (max_body_bytes)",
    422: "A field is invalid; the error names it",
    428: "Precondition required: send If-Match",
    429: "Rate limited (the vendor's quota or an injected one); wait Retry-After seconds",
    "4XX": "Any other client error, in the same shape",
    "5XX": "A server error the chaos engine injected (500, 502, 503, 504), in the same shape",
}


def error_responses(
    model: type[BaseModel],
    *statuses: int | str,
    descriptions: Mapping[int | str, str] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for ``statuses``, each answered in ``model``'s shape."""
    said = descriptions or {}
    return {
        status: {"model": model, "description": said.get(status) or _DESCRIPTIONS[status]}
        for status in statuses
    }


class BasicErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    field: str | None = None


class BasicError(BaseModel):
    """The error body of a system that keeps ``MockService``'s own shape."""

    error: BasicErrorDetail


def form_body(
    fields: Mapping[str, str], *, required: Iterable[str] = (), also_json: bool = False
) -> dict[str, Any]:
    """``openapi_extra`` for a form-encoded body: ``fields`` maps each name to what it is."""
    needed = list(required)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": text} for name, text in fields.items()
        },
    }
    if needed:
        schema["required"] = needed
    content = {"application/x-www-form-urlencoded": {"schema": schema}}
    if also_json:
        content["application/json"] = {"schema": {**schema, "additionalProperties": True}}
    return {"requestBody": {"required": bool(needed), "content": content}}


def json_body(schema: Mapping[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a JSON body, described by a plain JSON schema (no ``$ref``)."""
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }
