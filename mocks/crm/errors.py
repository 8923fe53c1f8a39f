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
    "MultipleChoices",
    "MultipleChoicesBody",
    "OAuthErrorBody",
    "SalesforceError",
    "SalesforceErrorItem",
    "SalesforceErrors",
    "entity_is_deleted",
    "error_list",
    "no_external_id_field",
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


def entity_is_deleted() -> SalesforceError:
    """A write to (or a second delete of) a record that was deleted."""
    return SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")


def no_external_id_field() -> SalesforceError:
    """Salesforce names the field; the field named in the URL is not repeated here."""
    return SalesforceError(
        404,
        "NOT_FOUND",
        "Provided external ID field does not exist or is not accessible: the field named in "
        "the URL is not an External ID field of this object",
    )


class MultipleChoices(SalesforceError):
    """An External ID value that matches several records: 300 and the list of their URLs
    (the records are neither read nor written)."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", "more than one record matches")
        self.urls = list(urls)

    def body(self) -> list[Any]:
        return list(self.urls)


# -- the shapes above, for the OpenAPI document ------------------------------------------


class SalesforceErrorItem(BaseModel):
    message: str
    errorCode: str  # Salesforce's own spelling
    fields: list[str] | None = None


class SalesforceErrors(RootModel[list[SalesforceErrorItem]]):
    """Salesforce's error body: a JSON list of errors (usually one)."""


class MultipleChoicesBody(RootModel[list[str]]):
    """A 300's body: the URL of every record the External ID value matches."""


class OAuthErrorBody(BaseModel):
    """What the token endpoints answer a refused request with (RFC 6749 section 5.2)."""

    error: str
    error_description: str
