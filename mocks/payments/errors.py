"""Stripe's error bodies, raised as one exception type and answered as ``{"error": {...}}``.

    StripeError                       status  type
    ├─ invalid request (bad params)   400     invalid_request_error (code names the problem)
    ├─ no such object                 404     invalid_request_error, code resource_missing
    ├─ unexpected state               400     invalid_request_error, payment_intent_unexpected_state
    ├─ card declined / bad card       402     card_error (code, decline_code)
    ├─ idempotency mismatch           400     idempotency_error
    └─ idempotency key in flight      409     idempotency_error, code idempotency_key_in_use

Messages follow Stripe's wording, and ``param`` names the offending field in bracket form
(``payment_method_data[card][exp_month]``). Where Stripe would quote the value it refuses
(``Invalid integer: 12.5``, ``No such payment_intent: 'pi_1'``, the URL of a 404), these say
which parameter and why instead: no message repeats what the client sent, a card number
least of all.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DOC_URL",
    "StripeError",
    "StripeErrorBody",
    "idempotency_in_use",
    "idempotency_mismatch",
    "invalid_empty",
    "invalid_integer",
    "invalid_value",
    "missing",
    "no_such",
    "unexpected_state",
    "unknown_parameter",
    "unrecognized_url",
]

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        error.update({k: v for k, v in self.extra.items() if v is not None})
        return {"error": error}


def _invalid(message: str, *, code: str | None = None, param: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code=code, param=param)


def missing(param: str) -> StripeError:
    return _invalid(f"Missing required param: {param}.", code="parameter_missing", param=param)


def invalid_integer(param: str) -> StripeError:
    return _invalid(
        f"Invalid integer: {param} must be a whole number",
        code="parameter_invalid_integer",
        param=param,
    )


def invalid_empty(param: str) -> StripeError:
    return _invalid(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        code="parameter_invalid_empty",
        param=param,
    )


def invalid_value(param: str | None, message: str, code: str | None = None) -> StripeError:
    return _invalid(message, code=code, param=param)


def unknown_parameter(param: str | None, within: str = "") -> StripeError:
    """Stripe names the unknown parameter (``param``); one whose name is free text rather
    than a name (``_forms.shown_name`` says None) is named by where it was, not repeated."""
    if param is None:
        where = f" inside {within}" if within else ""
        return _invalid(
            f"Received unknown parameter{where}: its name is not one this endpoint takes",
            code="parameter_unknown",
            param=within or None,
        )
    return _invalid(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def no_such(kind: str, param: str, status: int = 404) -> StripeError:
    """404 for the object in the URL; 400 when a parameter refers to a missing object."""
    return StripeError(
        status,
        "invalid_request_error",
        f"No such {kind}: none has the id given as {param}",
        code="resource_missing",
        param=param,
    )


def unexpected_state(
    message: str, payment_intent: dict[str, Any] | None = None, param: str | None = None
) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        message,
        code="payment_intent_unexpected_state",
        param=param,
        payment_intent=payment_intent,
    )


def idempotency_mismatch() -> StripeError:
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using another Idempotency-Key if you meant to execute a "
        "different request.",
    )


def idempotency_in_use() -> StripeError:
    return StripeError(
        409,
        "idempotency_error",
        "There is currently another in-progress request using this Idempotent Key (that "
        "probably means you submitted twice, and the other request is still going through): "
        "Please try again later.",
        code="idempotency_key_in_use",
    )


def unrecognized_url(method: str) -> StripeError:
    """``method`` is one of the few a route takes (``ANY_METHOD``), never free text."""
    return StripeError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}): the API has no such path. Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


class StripeErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # a card error also carries the intent

    type: str  # invalid_request_error, card_error, idempotency_error, api_error...
    message: str
    code: str | None = None
    param: str | None = None  # the field at fault, in bracket form
    doc_url: str | None = None
    decline_code: str | None = None


class StripeErrorBody(BaseModel):
    """``StripeError.body()``, for the OpenAPI document."""

    error: StripeErrorDetail
