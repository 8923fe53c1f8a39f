"""The Salesforce REST surface: OAuth token, versions, limits, query (+ paging), sObject
CRUD, and read/upsert by External ID.

Paths are those of a real org below ``instance_url`` (``<base>/crm``), for any API
version ``vNN.N``, with or without a trailing slash, as Salesforce takes them. Every
refusal uses Salesforce's error list (see ``errors.py``); handlers raise
``SalesforceError`` and the route class renders it, and adds ``Sforce-Limit-Info`` to
every versioned answer. Each endpoint parses, asks the ``CrmService`` (found on the
app's state), and answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mocks.crm import describe
from mocks.crm.errors import (
    MultipleChoicesBody,
    OAuthErrorBody,
    SalesforceError,
    SalesforceErrors,
    not_found,
)
from mocks.crm.external_ids import read_by_external_id, upsert_by_external_id
from mocks.crm.limits import LIMIT_INFO_HEADER, limit_info
from mocks.crm.oauth import OAuthRefusal
from mocks.crm.paging import batch_size_from
from mocks.crm.schema import SObjectType, sobject_named
from mocks.crm.service import CrmService
from mocks.platform.apidocs import (
    BODY_STATUSES,
    GATEWAY_STATUSES,
    error_responses,
    form_body,
    json_body,
)
from mocks.platform.field_errors import defined_names, safe_errors
from mocks.platform.idempotency import StoredResponse
from mocks.platform.state import service_in
from mocks.platform.system_app import ANY_METHOD

__all__ = ["Crm", "current_crm", "router"]

_VERSION = re.compile(r"^v\d{2,3}\.\d$")
_DATA = "/services/data/{version}"


class _SalesforceRoute(APIRoute):
    """Renders SalesforceError (and FastAPI's own validation errors) as Salesforce does,
    and counts each versioned request against the org's daily allocation."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        counted = "{version}" in self.path  # an API request against the daily allocation

        async def handle(request: Request) -> Response:
            # Counted first, so GET /limits includes itself, as Salesforce's does.
            used = service_in(request, CrmService).count_api_request() if counted else 0
            try:
                response = await handler(request)
            except SalesforceError as error:
                response = error.response()
            except RequestValidationError as error:
                safe = safe_errors(error.errors(), defined_names(request.app))
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in safe
                )
                response = SalesforceError(400, "INVALID_INPUT", problems).response()
            if counted:
                response.headers[LIMIT_INFO_HEADER] = limit_info(used)
            return response

        return handle


router = APIRouter(
    route_class=_SalesforceRoute,
    responses=error_responses(SalesforceErrors, *GATEWAY_STATUSES),
)


def _errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(SalesforceErrors, *statuses)


_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "The request was refused; error says why"},
    **_errors(413),
}
_TOKEN_FORM = form_body(
    {
        "grant_type": "client_credentials or password",
        "client_id": "the connected app's id (or send it with HTTP Basic)",
        "client_secret": "the connected app's secret (or send it with HTTP Basic)",
        "username": "password grant: any user name",
        "password": "password grant: the client secret",
    },
    required=["grant_type"],
)
_REVOKE_FORM = form_body({"token": "the access token to end"}, required=["token"])
_RECORD = json_body(
    {
        "type": "object",
        "description": 'Field values by API name, e.g. {"LastName": "Doe"}; "attributes" '
        "is ignored, as Salesforce ignores it",
        "additionalProperties": True,
    }
)


async def current_crm(request: Request) -> CrmService:
    return service_in(request, CrmService)


Crm = Annotated[CrmService, Depends(current_crm)]


@router.post(
    "/services/oauth2/token",
    tags=["oauth"],
    summary="Get an access token",
    responses=_OAUTH_ERRORS,
    openapi_extra=_TOKEN_FORM,
)
async def token(request: Request, crm: Crm) -> JSONResponse:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    try:
        body = crm.grant_token(form, request.headers.get("authorization"))
    except OAuthRefusal as refusal:
        return JSONResponse(refusal.body(), status_code=400)
    return JSONResponse(body, headers={"Cache-Control": "no-cache, no-store"})


@router.post(
    "/services/oauth2/revoke",
    tags=["oauth"],
    summary="Revoke a token",
    responses=_OAUTH_ERRORS,
    openapi_extra=_REVOKE_FORM,
)
async def revoke(request: Request, crm: Crm) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    given = form.get("token") or request.query_params.get("token", "")
    if not crm.tokens.revoke(given):
        return JSONResponse(
            {
                "error": "unsupported_token_type",
                "error_description": "this token type is not supported",
            },
            status_code=400,
        )
    return Response(status_code=200)


async def versions() -> list[dict[str, str]]:
    return describe.versions()


async def resources(version: str) -> dict[str, str]:
    return describe.version_resources(_checked(version))


async def describe_global(version: str) -> dict[str, Any]:
    return describe.describe_global(_checked(version))


router.add_api_route(
    "/services/data", versions, methods=["GET"], tags=["metadata"], summary="API versions"
)
router.add_api_route(
    _DATA,
    resources,
    methods=["GET"],
    tags=["metadata"],
    summary="Resources of one API version",
    responses=_errors(404),
)
router.add_api_route(
    f"{_DATA}/sobjects",
    describe_global,
    methods=["GET"],
    tags=["metadata"],
    summary="describeGlobal",
    responses=_errors(404),
)


@router.get(
    f"{_DATA}/limits",
    tags=["metadata"],
    summary="The org's limits: each as Max and Remaining",
    responses=_errors(404),
)
async def limits(version: str, crm: Crm) -> dict[str, Any]:
    _checked(version)
    return crm.limits()


@router.get(
    f"{_DATA}/sobjects/{{sobject}}",
    tags=["metadata"],
    summary="sObject basic info",
    responses=_errors(404),
)
async def sobject_info(version: str, sobject: str) -> dict[str, Any]:
    spec = _sobject(sobject)
    return {"objectDescribe": describe.sobject_summary(spec, _checked(version)), "recentItems": []}


@router.get(
    f"{_DATA}/sobjects/{{sobject}}/describe",
    tags=["metadata"],
    summary="describe",
    responses=_errors(404),
)
async def describe_sobject(version: str, sobject: str) -> dict[str, Any]:
    return describe.describe_sobject(_sobject(sobject), _checked(version))


async def run_query(request: Request, version: str, crm: Crm) -> JSONResponse:
    _checked(version)
    text = request.query_params.get("q")
    if not text:
        raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
    batch = batch_size_from(request.headers.get("sforce-query-options"))
    return JSONResponse(crm.query(text, batch, version))


async def query_more(version: str, cursor: str, crm: Crm) -> JSONResponse:
    return JSONResponse(crm.cursors.next_page(cursor, _checked(version)))


# queryAll would add deleted records; the mock keeps no recycle bin, so the two agree.
for _resource in ("query", "queryAll"):
    router.add_api_route(
        f"{_DATA}/{_resource}",
        run_query,
        methods=["GET"],
        tags=["query"],
        summary=f"SOQL {_resource}",
        responses=_errors(400, 404),
    )
    router.add_api_route(
        f"{_DATA}/{_resource}/{{cursor}}",
        query_more,
        methods=["GET"],
        tags=["query"],
        summary="Next batch of a query",
        responses=_errors(400, 404),
    )


async def create(request: Request, version: str, sobject: str, crm: Crm) -> Response:
    _checked(version)
    spec = _sobject(sobject)
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    stored, replayed = await crm.create_record(spec, body, key)
    return _render(stored, replayed)


router.add_api_route(
    f"{_DATA}/sobjects/{{sobject}}",
    create,
    methods=["POST"],
    status_code=201,
    tags=["sobjects"],
    summary="Create a record",
    responses=_errors(*BODY_STATUSES, 404, 409),
    openapi_extra=_RECORD,
)


@router.get(
    f"{_DATA}/sobjects/{{sobject}}/{{record_id}}",
    tags=["sobjects"],
    summary="Get a record (optionally ?fields=A,B)",
    responses=_errors(400, 404),
)
async def get_record(
    request: Request, version: str, sobject: str, record_id: str, crm: Crm
) -> Response:
    spec = _sobject(sobject)
    fields = request.query_params.get("fields")
    names = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    return JSONResponse(crm.get_record(spec, record_id, names, _checked(version)))


@router.patch(
    f"{_DATA}/sobjects/{{sobject}}/{{record_id}}",
    tags=["sobjects"],
    status_code=204,
    summary="Update a record",
    responses=_errors(*BODY_STATUSES, 404, 409),
    openapi_extra=_RECORD,
)
async def update_record(
    request: Request, version: str, sobject: str, record_id: str, crm: Crm
) -> Response:
    _checked(version)
    spec = _sobject(sobject)
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    stored, replayed = await crm.update_record(spec, record_id, body, key)
    return _render(stored, replayed)


@router.delete(
    f"{_DATA}/sobjects/{{sobject}}/{{record_id}}",
    tags=["sobjects"],
    status_code=204,
    summary="Delete a record (a second delete: 404 ENTITY_IS_DELETED)",
    responses=_errors(404, 409),
)
async def delete_record(
    request: Request, version: str, sobject: str, record_id: str, crm: Crm
) -> Response:
    _checked(version)
    key = request.headers.get("idempotency-key")
    stored, replayed = await crm.delete_record(_sobject(sobject), record_id, key)
    return _render(stored, replayed)


_MATCHES: dict[int | str, dict[str, Any]] = {
    300: {"model": MultipleChoicesBody, "description": "Several records match"}
}


@router.get(
    f"{_DATA}/sobjects/{{sobject}}/{{field}}/{{value}}",
    tags=["sobjects"],
    summary="Get a record by an External ID field (Customer_Id__c)",
    responses={**_MATCHES, **_errors(404)},
)
async def get_by_external_id(
    version: str, sobject: str, field: str, value: str, crm: Crm
) -> dict[str, Any]:
    return read_by_external_id(crm, _sobject(sobject), field, value, _checked(version))


@router.patch(
    f"{_DATA}/sobjects/{{sobject}}/{{field}}/{{value}}",
    tags=["sobjects"],
    summary="Upsert by an External ID field: 201 created, 200 updated, 300 several match",
    responses={
        201: {"description": "Created: id, success, errors, created=true"},
        **_MATCHES,
        **_errors(*BODY_STATUSES, 404, 409),
    },
    openapi_extra=_RECORD,
)
async def upsert(
    request: Request, version: str, sobject: str, field: str, value: str, crm: Crm
) -> Response:
    spec = _sobject(sobject)
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    stored, replayed = await upsert_by_external_id(
        crm, spec, field, value, body, key, _checked(version)
    )
    return _render(stored, replayed)


async def unknown_resource(rest: str) -> Response:
    raise not_found()


def _add_slashed_twins() -> None:
    """Salesforce answers every resource with or without a trailing slash (simple-salesforce
    asks for ``sobjects/Contact/``, ``limits/`` and ``query/?q=``), so each route gets a
    twin ending in ``/``, outside the document; the catch-all 404 goes after them all."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and not route.path.endswith("/"):
            router.add_api_route(
                f"{route.path}/",
                route.endpoint,
                methods=sorted(route.methods or ()),
                status_code=route.status_code,
                name=f"{route.name}_slashed",
                include_in_schema=False,
            )
    router.add_api_route(
        "/{rest:path}", unknown_resource, methods=ANY_METHOD, include_in_schema=False
    )


_add_slashed_twins()


def _checked(version: str) -> str:
    if not _VERSION.match(version):
        raise not_found()
    return version


def _sobject(name: str) -> SObjectType:
    spec = sobject_named(name)
    if spec is None:
        raise not_found()
    return spec


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = (
            f" at [line:{error.lineno}, column:{error.colno}]"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        raise SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character{where}") from None


def _render(stored: StoredResponse, replayed: bool) -> Response:
    headers = dict(stored.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if stored.body is None:
        return Response(status_code=stored.status, headers=headers)
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)
