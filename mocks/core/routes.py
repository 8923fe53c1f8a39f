"""The core's wire format: one SOAP endpoint and its WSDL, under ``/core``.

    GET  /core/ws/CustomerService?wsdl   the WSDL (its address is the URL it was fetched at)
    POST /core/ws/CustomerService        a SOAP 1.1 envelope; the Body's element says which
                                         operation (Login, GetCustomerProfile...)

Every answer is ``text/xml``: a response envelope, or a SOAP fault (``mocks.core.service``
lists the codes). The body is read here, already bounded by the gateway.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from mocks.core.envelope import SOAP_ENV, XML_MEDIA_TYPE
from mocks.core.service import CoreService
from mocks.core.wsdl import SERVICE_PATH, wsdl_document
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses
from mocks.platform.state import service_in

__all__ = ["Core", "SoapFaultEnvelope", "current_core", "router"]


class SoapFaultDetail(BaseModel):
    ErrorCode: str = Field(..., description="CoreLink's code, e.g. CL-SEC-0102")
    Message: str
    Field_: str | None = Field(None, alias="Field", description="the part of the request at fault")
    RetryAfterSeconds: int | None = None
    WindowEndsAt: str | None = None


class SoapFaultBody(BaseModel):
    faultcode: str = Field(..., description="soap:Client or soap:Server")
    faultstring: str
    detail: SoapFaultDetail


class SoapFaultEnvelope(BaseModel):
    """Every core error: a SOAP 1.1 envelope whose Body holds one ``soap:Fault``."""

    model_config = ConfigDict(
        json_schema_extra={"xml": {"name": "Envelope", "prefix": "soap", "namespace": SOAP_ENV}}
    )

    Fault: SoapFaultBody


router = APIRouter(tags=["core"], responses=error_responses(SoapFaultEnvelope, *GATEWAY_STATUSES))

_XML_TEXT: dict[str, Any] = {"type": "string", "description": "an XML document"}
_ENVELOPE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/xml": {
                "schema": {
                    "type": "string",
                    "description": "A SOAP 1.1 envelope whose Body holds one operation "
                    "element of the WSDL (Login, Logout, GetCustomerProfile, "
                    "GetAccountBalance, AddContactMemo)",
                }
            }
        },
    }
}
_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The operation's response envelope",
        "content": {XML_MEDIA_TYPE: {"schema": _XML_TEXT}},
    }
}
_SOAP_ERRORS = error_responses(
    SoapFaultEnvelope,
    *BODY_STATUSES,
    401,
    404,
    409,
    descriptions={
        400: "A SOAP fault: the envelope or a field is invalid (CL-REQ-02xx names the field)",
        401: "A SOAP fault: wrong credentials, or no, unknown or expired session (CL-SEC-01xx)",
        404: "A SOAP fault: no such customer or account (CL-CIF-0404)",
        409: "A SOAP fault: a RequestReference reused with other values (CL-REQ-0409)",
    },
)


async def current_core(request: Request) -> CoreService:
    return service_in(request, CoreService)


Core = Annotated[CoreService, Depends(current_core)]


@router.get(
    SERVICE_PATH,
    summary="The WSDL (ask with ?wsdl, as SOAP clients do)",
    response_class=Response,
    responses={
        200: {"description": "WSDL 1.1", "content": {XML_MEDIA_TYPE: {"schema": _XML_TEXT}}}
    },
)
async def wsdl(
    request: Request,
    wsdl: Annotated[str | None, Query(description="present (and empty) in a WSDL request")] = None,
) -> Response:
    del wsdl  # the WSDL is served with or without it
    location = str(request.url.replace(query=None, fragment=None))
    return Response(wsdl_document(location), media_type=XML_MEDIA_TYPE)


@router.post(
    SERVICE_PATH,
    summary="Call an operation: a SOAP 1.1 envelope in, a response envelope or a fault out",
    response_class=Response,
    responses={
        **_OK,
        **_SOAP_ERRORS,
        503: {
            "model": SoapFaultEnvelope,
            "description": "A SOAP fault: the nightly batch window is open (CL-SYS-0900); "
            "Retry-After says when it ends",
        },
    },
    openapi_extra=_ENVELOPE_BODY,
)
async def call(
    request: Request,
    core: Core,
    soap_action: Annotated[str | None, Header(alias="SOAPAction")] = None,
) -> Response:
    status, body, headers = await core.handle(await request.body(), soap_action)
    return Response(body, status_code=status, media_type=XML_MEDIA_TYPE, headers=headers)
