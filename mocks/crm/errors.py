"""Salesforce's REST error shape: a JSON list of ``{"message", "errorCode"[, "fields"]}``.

Route code raises ``SalesforceError``; the router turns it into the response, so every
refusal the CRM makes (and every fault the gateway injects) reads the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, RootModel

__all__ = [
    "GATEWAY_ERROR_CODES",
    "OAuthErrorBody",
    "SalesforceError",
    "SalesforceErrorItem",
    "SalesforceErrors",
    "error_list",
    "not_found",
]

# Gateway reasons (see mocks.platform.gateway), and the system app's for a path or method no
# route serves (mocks.platform.system_app) -> the errorCode Salesforce would send.
GATEWAY_ERROR_CODES = {
    "unauthorized": "INVALID_SESSION_ID",
    "rate_limited": "REQUEST_LIMIT_EXCEEDED",
    "unavailable": "SERVER_UNAVAILABLE",
    "invalid_request": "JSON_PARSER_ERROR",
    "payload_too_large": "REQUEST_ENTITY_TOO_LARGE",
    "not_found": "NOT_FOUND",
    "method_not_allowed": "METHOD_NOT_ALLOWED",
}


def error_list(message: str, error_code: str, fields: Sequence[str] | None = None) -> list[Any]:
    item: dict[str, Any] = {"message": message, "errorCode": error_code}
    if fields is not None:
        item["fields"] = list(fields)
    return [item]


class SalesforceError(Exception):
    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: Sequence[str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[Any]:
        return error_list(self.message, self.error_code, self.fields)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


# -- the shapes above, for the OpenAPI document ------------------------------------------


class SalesforceErrorItem(BaseModel):
    message: str
    errorCode: str  # Salesforce's own spelling
    fields: list[str] | None = None


class SalesforceErrors(RootModel[list[SalesforceErrorItem]]):
    """Salesforce's error body: a JSON list of errors (usually one)."""


class OAuthErrorBody(BaseModel):
    """What the token endpoints answer a refused request with (RFC 6749 section 5.2)."""

    error: str
    error_description: str
