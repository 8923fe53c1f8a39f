"""The eligibility API: ``/eligibility/v1/...``, authenticated with ``X-Api-Key``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from mocks.eligibility._envelope import EnvelopeRoute, error_response
from mocks.eligibility.models import CheckRequest, CheckResult, ErrorEnvelope, ProductsPage
from mocks.eligibility.service import EligibilityService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.state import service_in

__all__ = ["Eligibility", "current_eligibility", "router"]

router = APIRouter(
    prefix="/v1",
    route_class=EnvelopeRoute,
    tags=["eligibility"],
    responses=error_responses(ErrorEnvelope, *GATEWAY_STATUSES),
)
_CHECK_ERRORS = error_responses(
    ErrorEnvelope,
    *BODY_STATUSES,
    404,
    409,
    422,
    descriptions={404: "No customer with that customer_id"},
)


async def current_eligibility(request: Request) -> EligibilityService:
    return service_in(request, EligibilityService)


Eligibility = Annotated[EligibilityService, Depends(current_eligibility)]


@router.get(
    "/products",
    response_model=ProductsPage,
    summary="The product catalog and each product's floors",
)
async def products(eligibility: Eligibility) -> dict[str, Any]:
    return {"products": eligibility.store.products()}


@router.post(
    "/checks",
    response_model=CheckResult,
    responses=_CHECK_ERRORS,
    summary="Check whether a customer qualifies for a product",
)
async def create_check(
    body: CheckRequest,
    eligibility: Eligibility,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Any:
    stored, replayed = await eligibility.create_check(body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(status_code=stored.status, content=stored.body, headers=headers)


@router.get(
    "/checks/{check_id}",
    response_model=CheckResult,
    responses=error_responses(ErrorEnvelope, 404),
    summary="A check made earlier",
)
async def get_check(check_id: str, eligibility: Eligibility) -> Any:
    check = eligibility.store.get_check(check_id)
    if check is None:
        return error_response(
            404, "check_not_found", "No check has this check_id", param="check_id"
        )
    return check
