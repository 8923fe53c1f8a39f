"""The loan origination API under ``/loans/api/v1``: each endpoint parses, asks the service,
and answers; ``run_write`` applies a write once per ``Idempotency-Key``."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from mocks.loans.models import CreateApplication, DocumentUpdate, Stage, TransitionRequest
from mocks.loans.service import LoansService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.problem import ProblemDetails, ProblemRoute
from mocks.platform.rest import read_one, run_write
from mocks.platform.state import service_in

__all__ = ["router"]

_WRITE_DOC = (
    "Idempotency-Key header: a retry with the same key replays the first answer. "
    "If-Match is optional; when sent it must carry the application's current ETag."
)

api = APIRouter(
    prefix="/api/v1",
    route_class=ProblemRoute,
    tags=["loans"],
    responses=error_responses(ProblemDetails, *GATEWAY_STATUSES),
)


def _problems(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(ProblemDetails, *statuses)


_WRITE_PROBLEMS = _problems(*BODY_STATUSES, 404, 409, 422)
_IF_MATCH_PROBLEMS = _problems(*BODY_STATUSES, 404, 409, 412, 422)  # If-Match is optional


async def current_loans(request: Request) -> LoansService:
    return service_in(request, LoansService)


Loans = Annotated[LoansService, Depends(current_loans)]


@api.get("/products", summary="Loan products, their ceilings and paperwork")
async def list_products(loans: Loans) -> dict[str, Any]:
    return loans.products()


@api.get(
    "/applications", summary="Applications, newest first, cursor-paged", responses=_problems(422)
)
async def list_applications(
    loans: Loans,
    customer_id: str | None = Query(None, max_length=40),
    stage: Stage | None = None,
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    return loans.application_page(customer_id, stage, limit, cursor)


@api.get(
    "/applications/{application_id}",
    summary="One application: stage, documents, history, allowed transitions",
    responses=_problems(404),
)
async def get_application(application_id: str, request: Request, loans: Loans) -> Response:
    application = loans.store.get(application_id)
    return read_one(request, application.as_json(), application.version)


@api.post(
    "/applications",
    status_code=201,
    summary="Submit an application",
    description="Starts in stage submitted with every document missing. " + _WRITE_DOC,
    responses=_WRITE_PROBLEMS,
)
async def create_application(body: CreateApplication, request: Request, loans: Loans) -> Response:
    return await run_write(loans, request, body.model_dump(), partial(loans.submit, body))


@api.post(
    "/applications/{application_id}/transitions",
    summary="Move an application to its next stage",
    description="submitted -> underwriting -> approved | declined; approved -> "
    "funded. Approval needs every document verified. " + _WRITE_DOC,
    responses=_IF_MATCH_PROBLEMS,
)
async def transition(
    application_id: str, body: TransitionRequest, request: Request, loans: Loans
) -> Response:
    move = partial(loans.move, application_id, body, request.headers.get("if-match"))
    return await run_write(loans, request, body.model_dump(), move)


@api.put(
    "/applications/{application_id}/documents/{name}",
    summary="Mark a checklist document received or verified",
    description="The ETag returned is the application's. " + _WRITE_DOC,
    responses=_IF_MATCH_PROBLEMS,
)
async def update_document(
    application_id: str,
    body: DocumentUpdate,
    request: Request,
    loans: Loans,
    name: str = Path(..., max_length=80),
) -> Response:
    if_match = request.headers.get("if-match")
    mark = partial(loans.mark_document, application_id, name, body, if_match)
    return await run_write(loans, request, body.model_dump(), mark)


router = api  # what the registry mounts
