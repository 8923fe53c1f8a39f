"""Stripe's PaymentIntents API under ``/payments/v1``, form-encoded in, JSON out.

Handlers read the raw form themselves (Stripe's bracket notation is not something
FastAPI's body models can express), so the OpenAPI docs describe parameters in prose.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.payments import errors
from mocks.payments._exchange import idempotent_write, read, stripe_response
from mocks.payments._values import reject_unknown
from mocks.payments.errors import StripeErrorBody
from mocks.payments.listing import list_page, parse_list
from mocks.payments.operations import (
    prepare_cancel,
    prepare_capture,
    prepare_confirm,
    prepare_create,
    prepare_update,
)
from mocks.payments.service import PaymentsService
from mocks.platform.apidocs import (
    BODY_STATUSES,
    GATEWAY_STATUSES,
    error_responses,
    form_body,
)
from mocks.platform.state import service_in
from mocks.platform.system_app import ANY_METHOD

__all__ = ["Payments", "current_payments", "router"]

_FORM = "Form-encoded body (Stripe bracket notation, e.g. metadata[order_id]=42)."

router = APIRouter(responses=error_responses(StripeErrorBody, *GATEWAY_STATUSES))


def _errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(StripeErrorBody, *statuses)


_WRITE_ERRORS = _errors(*BODY_STATUSES, 404, 409)
_CARD = {
    "payment_method": "pm_card_visa, pm_card_chargeDeclined... or a PaymentMethod id",
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": "a test card number",
    "payment_method_data[card][exp_month]": "1-12",
    "payment_method_data[card][exp_year]": "four digits (or two)",
    "payment_method_data[card][cvc]": "3 or 4 digits",
}
_EDITABLE = {
    "description": "free text",
    "metadata[key]": "a value (an empty value unsets the key)",
    "receipt_email": "an email address",
    "customer": "a customer id",
}
_CREATE_FORM = form_body(
    {
        "amount": "in the currency's smallest unit",
        "currency": "three-letter ISO code, lower case",
        "confirm": "true to confirm at once",
        "capture_method": "automatic (default) or manual: confirm only authorises, capture follows",
        **_CARD,
        **_EDITABLE,
    },
    required=["amount", "currency"],
)
_UPDATE_FORM = form_body(
    {"amount": "before confirmation", "currency": "before confirmation", **_CARD, **_EDITABLE}
)
_CONFIRM_FORM = form_body(_CARD)
_CAPTURE_FORM = form_body(
    {
        "amount_to_capture": "at most amount_capturable (default: all of it); the rest is released",
        "metadata[key]": "a value (an empty value unsets the key)",
        "statement_descriptor": "free text",
        "statement_descriptor_suffix": "free text",
    }
)
_CANCEL_FORM = form_body(
    {"cancellation_reason": "duplicate, fraudulent, requested_by_customer or abandoned"}
)


async def current_payments(request: Request) -> PaymentsService:
    return service_in(request, PaymentsService)


Payments = Annotated[PaymentsService, Depends(current_payments)]


@router.post(
    "/v1/payment_intents",
    summary="Create a PaymentIntent",
    description=(
        f"{_FORM} amount, currency; optional payment_method (pm_card_visa...) or "
        "payment_method_data[type]=card with [card][number|exp_month|exp_year|cvc], "
        "confirm=true, metadata[...], description, customer, receipt_email."
    ),
    responses={**_WRITE_ERRORS, **_errors(402)},
    openapi_extra=_CREATE_FORM,
)
async def create(request: Request, payments: Payments) -> JSONResponse:
    return await idempotent_write(payments, request, partial(prepare_create, payments))


@router.get(
    "/v1/payment_intents",
    summary="List PaymentIntents (newest first)",
    description="limit (1-100), starting_after, ending_before, customer, created[gt|gte|lt|lte].",
    responses=_errors(400),
)
async def list_intents(request: Request, payments: Payments) -> JSONResponse:
    return await read(request, partial(_intents, payments))


@router.get(
    "/v1/payment_intents/{intent_id}",
    summary="Retrieve a PaymentIntent",
    responses=_errors(400, 404),
)
async def retrieve(intent_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await read(request, partial(_intent, payments, intent_id))


@router.post(
    "/v1/payment_intents/{intent_id}",
    summary="Update a PaymentIntent",
    description=f"{_FORM} amount, currency and payment_method before it is "
    'confirmed; metadata ("" unsets a key) and description at any time.',
    responses=_WRITE_ERRORS,
    openapi_extra=_UPDATE_FORM,
)
async def update(intent_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await idempotent_write(payments, request, partial(prepare_update, payments, intent_id))


@router.post(
    "/v1/payment_intents/{intent_id}/confirm",
    summary="Confirm a PaymentIntent",
    description=f"{_FORM} optional payment_method or payment_method_data. A "
    "declined card answers 402 card_error with the intent in the error.",
    responses={**_WRITE_ERRORS, **_errors(402)},
    openapi_extra=_CONFIRM_FORM,
)
async def confirm(intent_id: str, request: Request, payments: Payments) -> JSONResponse:
    prepare = partial(prepare_confirm, payments, intent_id)
    return await idempotent_write(payments, request, prepare)


@router.post(
    "/v1/payment_intents/{intent_id}/capture",
    summary="Capture an authorised PaymentIntent",
    description=f"{_FORM} For an intent confirmed with capture_method=manual (status "
    "requires_capture): optional amount_to_capture (at most amount_capturable; the rest is "
    "released), metadata[...], statement_descriptor. Any other status answers 400 "
    "payment_intent_unexpected_state; too large an amount 400 amount_too_large.",
    responses=_WRITE_ERRORS,
    openapi_extra=_CAPTURE_FORM,
)
async def capture(intent_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await idempotent_write(payments, request, partial(prepare_capture, payments, intent_id))


@router.post(
    "/v1/payment_intents/{intent_id}/cancel",
    summary="Cancel a PaymentIntent",
    description=f"{_FORM} optional cancellation_reason: duplicate, fraudulent, "
    "requested_by_customer or abandoned. Cancelling one in requires_capture releases the "
    "authorisation.",
    responses=_WRITE_ERRORS,
    openapi_extra=_CANCEL_FORM,
)
async def cancel(intent_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await idempotent_write(payments, request, partial(prepare_cancel, payments, intent_id))


@router.get("/v1/charges/{charge_id}", summary="Retrieve a Charge", responses=_errors(404))
async def retrieve_charge(charge_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await read(request, partial(_charge, payments, charge_id))


@router.get(
    "/v1/payment_methods/{method_id}", summary="Retrieve a PaymentMethod", responses=_errors(404)
)
async def retrieve_method(method_id: str, request: Request, payments: Payments) -> JSONResponse:
    return await read(request, partial(_method, payments, method_id))


# Last, so only paths nothing else matched land here: Stripe's own 404 body.
@router.api_route("/{rest:path}", methods=ANY_METHOD, include_in_schema=False)
async def unrecognized(rest: str, request: Request) -> JSONResponse:
    error = errors.unrecognized_url(request.method)
    return stripe_response(request, error.status, error.body())


# -- what each read answers, given the query string's parameters -----------------------


def _intents(payments: PaymentsService, query: dict[str, Any]) -> dict[str, Any]:
    return list_page(payments.store, parse_list(query))


def _intent(payments: PaymentsService, intent_id: str, query: dict[str, Any]) -> dict[str, Any]:
    reject_unknown(query, frozenset({"client_secret", "expand"}))
    return payments.store.intent(intent_id).as_json()


def _charge(payments: PaymentsService, charge_id: str, _: dict[str, Any]) -> dict[str, Any]:
    charge = payments.store.charges.get(charge_id)
    if charge is None:
        raise errors.no_such("charge", "id")
    return charge.as_json()


def _method(payments: PaymentsService, method_id: str, _: dict[str, Any]) -> dict[str, Any]:
    method = payments.store.methods.get(method_id)
    if method is None:
        raise errors.no_such("PaymentMethod", "payment_method")
    return method.as_json()
