"""Segment's HTTP Tracking API under ``/analytics/v1``.

The Python SDK posts everything to ``<host>/v1/batch``, so
``segment.analytics.Client(write_key, host="<mocks>/analytics")`` talks to it unchanged.
A batch is checked whole before any message is stored: one bad message refuses the batch
(Segment itself drops bad messages quietly; a test bed would rather say which one).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mocks.analytics.messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    MESSAGE_TYPES,
    SegmentError,
    SegmentErrorBody,
    check_message,
)
from mocks.analytics.service import AnalyticsService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, json_body
from mocks.platform.credentials import same_secret
from mocks.platform.json_checks import deeper_than, flaw_in, path_text
from mocks.platform.state import service_in

__all__ = ["Analytics", "SegmentErrorRoute", "current_analytics", "router"]

_ACCEPTED = {"success": True}


class SegmentErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_segment_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SegmentError as exc:
                return JSONResponse(exc.body(), exc.status)

        return rendering_segment_errors


def _gunzip(raw: bytes, max_bytes: int, what: str) -> bytes:
    """Inflate at most ``max_bytes`` + 1: a small gzip can hold gigabytes of zeros."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)  # | 16: the gzip container
    try:
        inflated = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise SegmentError.invalid("body is not valid gzip") from exc
    if len(inflated) > max_bytes:
        raise SegmentError.invalid(f"{what} exceeds {max_bytes // 1024}KB")
    if not inflater.eof:
        raise SegmentError.invalid("body is not valid gzip")
    return inflated


async def _read_json(request: Request, max_bytes: int, what: str, max_depth: int) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        raw = _gunzip(raw, max_bytes, what)
        # The gateway checked the compressed bytes only; check what they held.
        if deeper_than(raw, max_depth):
            raise SegmentError.invalid(f"body nests deeper than {max_depth} levels")
        flaw = flaw_in(raw)
        if flaw is not None:
            raise SegmentError.invalid(f"{path_text(flaw.path)} {flaw.message}")
    if len(raw) > max_bytes:
        raise SegmentError.invalid(f"{what} exceeds {max_bytes // 1024}KB")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SegmentError.invalid("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise SegmentError.invalid("body must be a JSON object")
    return body


def _check_write_key(request: Request, body: dict[str, Any], expected: str) -> None:
    # A Basic header was already checked by the gateway; without one, the body must say.
    if "authorization" in request.headers:
        return
    given = body.get("writeKey")
    if not given:
        raise SegmentError(
            401, "unauthorized", "write key missing: send it as the Basic auth username or writeKey"
        )
    if not isinstance(given, str) or not same_secret(given, expected):
        raise SegmentError(401, "unauthorized", "invalid write key")


def _with_shared(body: dict[str, Any], item: Any) -> Any:
    """A batch's own context and integrations apply to each message, which may add to them."""
    if not isinstance(item, dict):
        return item
    merged = dict(item)
    for name in ("context", "integrations"):
        shared, own = body.get(name), item.get(name)
        if isinstance(shared, dict):
            merged[name] = {**shared, **own} if isinstance(own, dict) else own or shared
    return merged


router = APIRouter(
    prefix="/v1",
    route_class=SegmentErrorRoute,
    tags=["analytics"],
    responses=error_responses(SegmentErrorBody, *GATEWAY_STATUSES, *BODY_STATUSES),
)
_OBJECT = {"type": "object", "additionalProperties": True}
_COMMON: dict[str, Any] = {
    "userId": {"type": "string"},
    "anonymousId": {"type": "string", "description": "userId or anonymousId is required"},
    "messageId": {"type": "string", "description": "a repeated one is applied once"},
    "timestamp": {"type": "string", "format": "date-time"},
    "context": _OBJECT,
    "integrations": _OBJECT,
    "writeKey": {"type": "string", "description": "when not sent as the Basic auth user"},
}


def _message(**fields: Any) -> dict[str, Any]:
    """The body of one message: the fields every type has, and ``fields``."""
    return json_body(
        {"type": "object", "properties": {**_COMMON, **fields}, "additionalProperties": True},
    )


_TEXT = {"type": "string"}
_BODIES = {
    "identify": _message(traits=_OBJECT),
    "track": _message(event=_TEXT, properties=_OBJECT),
    "page": _message(name=_TEXT, properties=_OBJECT),
    "screen": _message(name=_TEXT, properties=_OBJECT),
    "group": _message(groupId=_TEXT, traits=_OBJECT),
    "alias": _message(previousId=_TEXT),
}


_BATCH = json_body(
    {
        "type": "object",
        "properties": {
            "batch": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"type": "string", "enum": list(MESSAGE_TYPES)}},
                    "additionalProperties": True,
                },
                "description": "messages, each with its type; checked whole before any is kept",
            },
            "sentAt": {"type": "string", "format": "date-time"},
            "context": _OBJECT,
            "integrations": _OBJECT,
            "writeKey": _COMMON["writeKey"],
        },
        "required": ["batch"],
    }
)


async def current_analytics(request: Request) -> AnalyticsService:
    return service_in(request, AnalyticsService)


Analytics = Annotated[AnalyticsService, Depends(current_analytics)]


async def _authorised_body(
    request: Request, analytics: AnalyticsService, max_bytes: int, what: str
) -> dict[str, Any]:
    max_depth = analytics.ctx.settings.max_json_depth
    body = await _read_json(request, max_bytes, what, max_depth)
    _check_write_key(request, body, analytics.ctx.settings.credentials.segment_write_key)
    return body


@router.post("/batch", summary="A batch of up to 500KB of messages", openapi_extra=_BATCH)
@router.post("/import", summary="Alias of /v1/batch, as in Segment's API", openapi_extra=_BATCH)
async def batch(request: Request, analytics: Analytics) -> JSONResponse:
    body = await _authorised_body(request, analytics, MAX_BATCH_BYTES, "batch")
    items = body.get("batch")
    if not isinstance(items, list):
        raise SegmentError.invalid("batch must be an array of messages")
    checked = [
        check_message(_with_shared(body, item), f"batch[{i}].") for i, item in enumerate(items)
    ]
    analytics.accept(checked, body.get("sentAt"))
    return JSONResponse(_ACCEPTED)


async def _one_message(request: Request, analytics: AnalyticsService, kind: str) -> JSONResponse:
    body = await _authorised_body(request, analytics, MAX_MESSAGE_BYTES, "message")
    analytics.accept([check_message(body, "", kind)], body.get("sentAt"))
    return JSONResponse(_ACCEPTED)


# One endpoint per message type, in MESSAGE_TYPES order, as Segment documents them.
@router.post("/identify", summary="identify", openapi_extra=_BODIES["identify"])
async def identify(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "identify")


@router.post("/track", summary="track", openapi_extra=_BODIES["track"])
async def track(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "track")


@router.post("/page", summary="page", openapi_extra=_BODIES["page"])
async def page(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "page")


@router.post("/screen", summary="screen", openapi_extra=_BODIES["screen"])
async def screen(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "screen")


@router.post("/group", summary="group", openapi_extra=_BODIES["group"])
async def group(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "group")


@router.post("/alias", summary="alias", openapi_extra=_BODIES["alias"])
async def alias(request: Request, analytics: Analytics) -> JSONResponse:
    return await _one_message(request, analytics, "alias")
