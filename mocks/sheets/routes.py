"""Google Sheets API v4 routes: spreadsheets.get/create and spreadsheets.values
get/batchGet/append.

Mounted under ``/sheets``, so the API root is ``/sheets/v4`` and a Google client whose root
URL is ``<mocks>/sheets/`` just works: google-api-python-client takes it as
``client_options={"api_endpoint": "<mocks>/sheets/"}`` (Sheets' service path is empty;
docs/sdk-recipes.md). Query parameters and bodies are read by hand, so every refusal is in
Google's shape; the client's own parameters (``alt``, ``fields``, ``prettyPrint``...) are
taken and ignored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, json_body
from mocks.platform.idempotency import StoredResponse, fingerprint
from mocks.platform.state import service_in
from mocks.sheets.cells import DATE_OPTIONS, RENDER_OPTIONS
from mocks.sheets.errors import SheetsError, SheetsErrorBody, SheetsErrorRoute
from mocks.sheets.params import DIMENSIONS, INPUT_OPTIONS, INSERT_OPTIONS
from mocks.sheets.service import SheetsService

__all__ = ["Sheets", "current_sheets", "router"]

router = APIRouter(
    prefix="/v4",
    route_class=SheetsErrorRoute,
    tags=["sheets"],
    responses=error_responses(SheetsErrorBody, *GATEWAY_STATUSES),
)


def _errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(SheetsErrorBody, *statuses)


def _query(**described: tuple[str, tuple[str, ...] | None]) -> list[dict[str, Any]]:
    """Query parameters read by hand: name -> (what it is, its values if an enum)."""
    found = []
    for name, (text, values) in described.items():
        schema: dict[str, Any] = {"type": "string"}
        if values:
            schema["enum"] = list(values)
        found.append(
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
        )
    return found


_RENDER = {
    "valueRenderOption": ("how values are shown (default FORMATTED_VALUE)", RENDER_OPTIONS),
    "dateTimeRenderOption": ("dates as serial numbers (default) or text", DATE_OPTIONS),
    "majorDimension": ("ROWS (default) or COLUMNS", DIMENSIONS),
}
_VALUE_RANGE = {
    "type": "object",
    "properties": {
        "range": {"type": "string", "description": "A1 notation; must name the request's sheet"},
        "majorDimension": {"type": "string", "enum": list(DIMENSIONS)},
        "values": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"type": ["string", "number", "boolean", "null"]},
            },
        },
    },
}
_APPEND: dict[str, Any] = {
    **json_body(_VALUE_RANGE),
    "parameters": _query(
        valueInputOption=("required: RAW or USER_ENTERED (parsed as if typed)", INPUT_OPTIONS),
        insertDataOption=("OVERWRITE (default) or INSERT_ROWS", INSERT_OPTIONS),
        includeValuesInResponse=("true to get the written values back", ("true", "false")),
        responseValueRenderOption=("how the written values come back", RENDER_OPTIONS),
        responseDateTimeRenderOption=("dates in the written values", DATE_OPTIONS),
    ),
}
_CREATE = json_body(
    {
        "type": "object",
        "properties": {
            "properties": {"type": "object", "properties": {"title": {"type": "string"}}},
            "sheets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "properties": {
                            "type": "object",
                            "properties": {"title": {"type": "string"}},
                        }
                    },
                },
            },
        },
    },
    required=False,
)
SpreadsheetId = Annotated[str, Path(alias="spreadsheetId")]
A1Range = Annotated[str, Path(alias="range", description="A1 notation, e.g. 'Do not call'!A2:D")]


async def current_sheets(request: Request) -> SheetsService:
    return service_in(request, SheetsService)


Sheets = Annotated[SheetsService, Depends(current_sheets)]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SheetsError.invalid(
            "Invalid JSON payload received.", "body", "must be a JSON object"
        ) from exc


def _render(stored: StoredResponse) -> Response:
    return JSONResponse(stored.body, status_code=stored.status, headers=dict(stored.headers))


def _write_print(request: Request, body: Any) -> str:
    return fingerprint(
        request.method, request.url.path, sorted(request.query_params.multi_items()), body
    )


@router.post(
    "/spreadsheets",
    summary="spreadsheets.create",
    responses=_errors(*BODY_STATUSES, 409),
    openapi_extra=_CREATE,
)
async def create_spreadsheet(request: Request, sheets: Sheets) -> Response:
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    return _render(await sheets.create(body, key, _write_print(request, body)))


@router.get("/spreadsheets/{spreadsheetId}", summary="spreadsheets.get", responses=_errors(404))
async def get_spreadsheet(spreadsheet_id: SpreadsheetId, sheets: Sheets) -> dict[str, Any]:
    return sheets.get_spreadsheet(spreadsheet_id)


@router.get(
    "/spreadsheets/{spreadsheetId}/values:batchGet",
    summary="spreadsheets.values.batchGet",
    responses=_errors(400, 404),
    openapi_extra={
        "parameters": _query(ranges=("a range in A1 notation; repeat for more", None), **_RENDER)
    },
)
async def batch_get(
    spreadsheet_id: SpreadsheetId, request: Request, sheets: Sheets
) -> dict[str, Any]:
    ranges = request.query_params.getlist("ranges")
    return sheets.batch_get(spreadsheet_id, ranges, request.query_params)


@router.get(
    "/spreadsheets/{spreadsheetId}/values/{range}",
    summary="spreadsheets.values.get",
    responses=_errors(400, 404),
    openapi_extra={"parameters": _query(**_RENDER)},
)
async def get_values(
    spreadsheet_id: SpreadsheetId, a1: A1Range, request: Request, sheets: Sheets
) -> dict[str, Any]:
    return sheets.get_values(spreadsheet_id, a1, request.query_params)


@router.post(
    "/spreadsheets/{spreadsheetId}/values/{range}:append",
    summary="spreadsheets.values.append",
    responses=_errors(*BODY_STATUSES, 404, 409),
    openapi_extra=_APPEND,
)
async def append_values(
    spreadsheet_id: SpreadsheetId, a1: A1Range, request: Request, sheets: Sheets
) -> Response:
    body = await _json_body(request)
    key = request.headers.get("idempotency-key")
    params = request.query_params
    stored = await sheets.append(spreadsheet_id, a1, params, body, key, _write_print(request, body))
    return _render(stored)
