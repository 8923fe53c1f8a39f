"""Stripe's PaymentIntents API under ``/payments/v1``, form-encoded in, JSON out.

Handlers read the raw form themselves (Stripe's bracket notation is not something
FastAPI's body models can express), so the OpenAPI docs describe parameters in prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.payments import errors
from mocks.payments._exchange import idempotent_write, read, stripe_response
from mocks.payments._values import reject_unknown
from mocks.payments.listing import list_page, parse_list
from mocks.payments.operations import (
    prepare_cancel,
    prepare_confirm,
    prepare_create,
    prepare_update,
)

if TYPE_CHECKING:
    from mocks.payments.service import PaymentsService

__all__ = ["build_router"]

_FORM = "Form-encoded body (Stripe bracket notation, e.g. metadata[order_id]=42)."


def build_router(service: PaymentsService) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/payment_intents", summary="Create a PaymentIntent", description=(
        f"{_FORM} amount, currency; optional payment_method (pm_card_visa...) or "
        "payment_method_data[type]=card with [card][number|exp_month|exp_year|cvc], "
        "confirm=true, metadata[...], description, customer, receipt_email."))
    async def create(request: Request) -> JSONResponse:
        return await idempotent_write(service, request, lambda f: prepare_create(service, f))

    @router.get("/v1/payment_intents", summary="List PaymentIntents (newest first)",
                description="limit (1-100), starting_after, ending_before, customer, "
                "created[gt|gte|lt|lte].")
    async def list_intents(request: Request) -> JSONResponse:
        return await read(request, lambda q: list_page(service.store, parse_list(q)))

    @router.get("/v1/payment_intents/{intent_id}", summary="Retrieve a PaymentIntent")
    async def retrieve(intent_id: str, request: Request) -> JSONResponse:
        def answer(query: dict[str, Any]) -> dict[str, Any]:
            reject_unknown(query, frozenset({"client_secret", "expand"}))
            return service.store.intent(intent_id).as_json()

        return await read(request, answer)

    @router.post("/v1/payment_intents/{intent_id}", summary="Update a PaymentIntent",
                 description=f"{_FORM} amount, currency and payment_method before it is "
                 "confirmed; metadata (\"\" unsets a key) and description at any time.")
    async def update(intent_id: str, request: Request) -> JSONResponse:
        return await idempotent_write(
            service, request, lambda f: prepare_update(service, intent_id, f)
        )

    @router.post("/v1/payment_intents/{intent_id}/confirm", summary="Confirm a PaymentIntent",
                 description=f"{_FORM} optional payment_method or payment_method_data. A "
                 "declined card answers 402 card_error with the intent in the error.")
    async def confirm(intent_id: str, request: Request) -> JSONResponse:
        return await idempotent_write(
            service, request, lambda f: prepare_confirm(service, intent_id, f)
        )

    @router.post("/v1/payment_intents/{intent_id}/cancel", summary="Cancel a PaymentIntent",
                 description=f"{_FORM} optional cancellation_reason: duplicate, fraudulent, "
                 "requested_by_customer or abandoned.")
    async def cancel(intent_id: str, request: Request) -> JSONResponse:
        return await idempotent_write(
            service, request, lambda f: prepare_cancel(service, intent_id, f)
        )

    @router.get("/v1/charges/{charge_id}", summary="Retrieve a Charge")
    async def retrieve_charge(charge_id: str, request: Request) -> JSONResponse:
        def answer(_: dict[str, Any]) -> dict[str, Any]:
            charge = service.store.charges.get(charge_id)
            if charge is None:
                raise errors.no_such("charge", charge_id, "id")
            return charge.as_json()

        return await read(request, answer)

    @router.get("/v1/payment_methods/{method_id}", summary="Retrieve a PaymentMethod")
    async def retrieve_method(method_id: str, request: Request) -> JSONResponse:
        def answer(_: dict[str, Any]) -> dict[str, Any]:
            method = service.store.methods.get(method_id)
            if method is None:
                raise errors.no_such("PaymentMethod", method_id, "payment_method")
            return method.as_json()

        return await read(request, answer)

    # Last, so only paths nothing else matched land here: Stripe's own 404 body.
    @router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"],
                      include_in_schema=False)
    async def unrecognized(rest: str, request: Request) -> JSONResponse:
        error = errors.unrecognized_url(request.method, "/" + rest)
        return stripe_response(request, error.status, error.body())

    return router
