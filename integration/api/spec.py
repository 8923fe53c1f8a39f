"""The OpenAPI document, told the truth: every error the service can answer, in the shape it
answers it, and every schema a ``$ref`` names present under ``components``.

The gate (``api.gate``) answers for every route before the route runs, so its errors are
added here to every operation it guards, from the same rules, rather than route by route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from integration.api.gate import is_public

__all__ = ["ErrorItem", "ErrorOut", "install_openapi", "json_body"]

_REF = "#/components/schemas/{model}"
_BODY_SCHEMAS: dict[str, dict[str, Any]] = {}  # what json_body's schemas refer to


class ErrorItem(BaseModel):
    type: str = Field(description="what went wrong, as a word: json_invalid, missing, ...")
    loc: list[str | int] = Field(description="where: body, query or path, then the field")
    msg: str = Field(description="what to change (the input is never repeated)")


class ErrorOut(BaseModel):
    """Every error the service answers: a sentence, or one item per bad field."""

    detail: str | list[ErrorItem]


class ValidationOut(BaseModel):
    detail: list[ErrorItem]


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads ``model`` itself (``bodies.validated``):
    its schema refers to components, which ``install_openapi`` fills in."""
    schema = model.model_json_schema(ref_template=_REF)
    _BODY_SCHEMAS.update(schema.pop("$defs", {}))
    _BODY_SCHEMAS[model.__name__] = schema
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        }
    }


_GATE = {
    "401": "no API token (Authorization: Bearer), or the wrong one",
    "400": "the body is JSON nested too deep, or not JSON at all",
    "413": "the body is larger than the service takes (1 MiB by default)",
    "415": "the body is not application/json",
    "422": "a field is missing or wrong (each named; the input is never repeated)",
}


def install_openapi(app: FastAPI, *, vapi_path: str, form_paths: tuple[str, ...]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app, vapi_path, form_paths)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI, vapi_path: str, form_paths: tuple[str, ...]) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorItem, ErrorOut, ValidationOut):
        found = model.model_json_schema(ref_template=_REF)
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    for name, schema in _BODY_SCHEMAS.items():
        schemas.setdefault(name, schema)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            guarded = not is_public(method.upper(), path) and path not in form_paths
            if guarded:
                why = (
                    _GATE["401"]
                    if path != vapi_path
                    else "no Vapi server credential, or a wrong one"
                )
                _add(responses, "401", why, "ErrorOut")
            takes_body = "requestBody" in operation or method in ("post", "put", "patch")
            if takes_body:
                for status in ("400", "413", "415"):
                    _add(responses, status, _GATE[status], "ErrorOut")
            if "{" in path:
                _add(responses, "404", "nothing with that id (or name)", "ErrorOut")
            if takes_body or operation.get("parameters"):
                _add(responses, "422", _GATE["422"], "ValidationOut", replace=True)
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = _json("ErrorOut")
    return doc


def _add(
    responses: dict[str, Any], status: str, why: str, model: str, *, replace: bool = False
) -> None:
    if status in responses and not replace:
        responses[status].setdefault("content", _json(model))
        return
    description = responses.get(status, {}).get("description") or why
    responses[status] = {"description": description, "content": _json(model)}


def _json(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}
