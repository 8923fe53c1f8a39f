"""The eligibility API: ``/eligibility/v1/...``, authenticated with ``X-Api-Key``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from mocks.eligibility._envelope import EnvelopeRoute, error_response
from mocks.eligibility.models import CheckRequest, CheckResult, ProductsPage
from mocks.eligibility.store import UnknownCustomer, UnknownProduct
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from mocks.eligibility.service import EligibilityService

__all__ = ["build_router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"example": {
        "error": {"code": code, "message": text}}}}}
    for status, code, text in (
        (401, "unauthorized", "Missing or invalid X-Api-Key"),
        (404, "customer_not_found", "No customer with that id"),
        (422, "invalid_request", "A field is missing or invalid (the message names it)"),
    )
}


def build_router(service: EligibilityService) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=EnvelopeRoute, tags=["eligibility"])
    store = service.store

    @router.get("/products", response_model=ProductsPage, responses=_ERRORS,
                summary="The product catalog and each product's floors")
    async def products() -> dict[str, Any]:
        return {"products": store.products()}

    @router.post("/checks", response_model=CheckResult, responses=_ERRORS,
                 summary="Check whether a customer qualifies for a product")
    async def create_check(
        body: CheckRequest,
        idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
    ) -> Any:
        async def apply() -> StoredResponse:
            check = store.create_check(body.customer_id, body.product_code, body.amount_cents)
            service.ledger.record(
                "check.create", check["check_id"], idempotency_key,
                customer_id=check["customer_id"], product_code=check["product_code"],
                decision=check["decision"],
            )
            return StoredResponse(200, check)

        request_print = fingerprint("POST", "/v1/checks", body.model_dump())
        try:
            stored, replayed = await service.idempotency.run(idempotency_key, request_print, apply)
        except UnknownProduct as exc:
            known = ", ".join(p.code for p in store.dataset.products)
            return error_response(
                422, "unknown_product",
                f"product_code {exc.args[0]!r} is not in the catalog; known: {known}",
                param="product_code",
            )
        except UnknownCustomer as exc:
            return error_response(
                404, "customer_not_found", f"No customer with customer_id {exc.args[0]!r}",
                param="customer_id",
            )
        except IdempotencyMismatch:
            return error_response(
                400, "idempotency_key_reused",
                "This Idempotency-Key was used with different parameters",
                param="Idempotency-Key",
            )
        except IdempotencyConflict:
            return error_response(
                409, "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry shortly",
            )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return JSONResponse(status_code=stored.status, content=stored.body, headers=headers)

    @router.get("/checks/{check_id}", response_model=CheckResult, responses=_ERRORS,
                summary="A check made earlier")
    async def get_check(check_id: str) -> Any:
        check = store.get_check(check_id)
        if check is None:
            return error_response(404, "check_not_found", f"No check with check_id {check_id!r}",
                                  param="check_id")
        return check

    return router
