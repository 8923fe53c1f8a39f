"""The loan origination API under ``/loans/api/v1``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from mocks.loans.models import (
    ApplicationRecord,
    CreateApplication,
    DocumentUpdate,
    Stage,
    TransitionRequest,
)
from mocks.platform.idempotency import StoredResponse
from mocks.platform.problem import ProblemRoute, with_fallback
from mocks.platform.rest import etag, page, read_one, run_write, stored

if TYPE_CHECKING:
    from mocks.loans.service import LoansService

__all__ = ["build_router"]

BASE = "/api/v1"
PREFIX = f"/loans{BASE}"
_WRITE_DOC = (
    "Idempotency-Key header: a retry with the same key replays the first answer. "
    "If-Match is optional; when sent it must carry the application's current ETag."
)


def _newest_first(application: ApplicationRecord) -> tuple[float, str]:
    return application.submitted_at.timestamp(), application.application_id


def build_router(service: LoansService) -> APIRouter:
    router = APIRouter(prefix=BASE, route_class=ProblemRoute, tags=["loans"])

    @router.get("/products", summary="Loan products, their ceilings and paperwork")
    async def list_products() -> dict[str, Any]:
        return {
            "data": [
                {
                    "code": product.code,
                    "name": product.name,
                    "max_amount_cents": product.max_amount_cents,
                    "apr_bps": product.apr_bps,
                    "min_credit_score": product.min_credit_score,
                    "required_documents": list(service.store.documents_for(product.code)),
                }
                for product in service.store.products.values()
            ],
            "next_cursor": None,
        }

    @router.get("/applications", summary="Applications, newest first, cursor-paged")
    async def list_applications(
        customer_id: str | None = Query(None, max_length=40),
        stage: Stage | None = None,
        limit: int = Query(25, ge=1, le=100),
        cursor: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        found = service.store.find(customer_id, stage)
        return page(found, _newest_first, limit, cursor, ApplicationRecord.as_json)

    @router.get("/applications/{application_id}",
                summary="One application: stage, documents, history, allowed transitions")
    async def get_application(application_id: str, request: Request) -> Response:
        application = service.store.get(application_id)
        return read_one(request, application.as_json(), application.version)

    @router.post("/applications", status_code=201, summary="Submit an application",
                 description="Starts in stage submitted with every document missing. "
                 + _WRITE_DOC)
    async def create_application(body: CreateApplication, request: Request) -> Response:
        def apply(key: str | None) -> StoredResponse:
            application = service.store.create(
                body.customer_id, body.product_code, body.amount_cents
            )
            service.ledger.record(
                "application.create", application.application_id, key,
                customer_id=application.customer_id, product_code=application.product_code,
                amount_cents=application.amount_cents,
            )
            return stored(201, application.as_json(), ETag=etag(application.version),
                          Location=f"{PREFIX}/applications/{application.application_id}")

        return await run_write(service, request, body.model_dump(), apply)

    @router.post("/applications/{application_id}/transitions",
                 summary="Move an application to its next stage",
                 description="submitted -> underwriting -> approved | declined; approved -> "
                 "funded. Approval needs every document verified. " + _WRITE_DOC)
    async def transition(
        application_id: str, body: TransitionRequest, request: Request
    ) -> Response:
        if_match = request.headers.get("if-match")

        def apply(key: str | None) -> StoredResponse:
            application = service.store.get(application_id)
            was = service.store.transition(application, body.to, body.reason, if_match)
            service.ledger.record(
                "application.transition", application.application_id, key,
                from_stage=was, to_stage=application.stage, reason=body.reason,
            )
            return stored(200, application.as_json(), ETag=etag(application.version))

        return await run_write(service, request, body.model_dump(), apply)

    @router.put("/applications/{application_id}/documents/{name}",
                summary="Mark a checklist document received or verified",
                description="The ETag returned is the application's. " + _WRITE_DOC)
    async def update_document(
        application_id: str, body: DocumentUpdate, request: Request,
        name: str = Path(..., max_length=80),
    ) -> Response:
        if_match = request.headers.get("if-match")

        def apply(key: str | None) -> StoredResponse:
            application = service.store.get(application_id)
            document, was = service.store.set_document(application, name, body.status, if_match)
            if document.status != was:  # setting the status it already has changes nothing
                service.ledger.record(
                    "document.update", application.application_id, key, document=name,
                    from_status=was, to_status=document.status,
                )
            data = {**document.as_json(), "application_id": application.application_id}
            return stored(200, data, ETag=etag(application.version))

        return await run_write(service, request, body.model_dump(), apply)

    return with_fallback(router)
