"""Segment's HTTP Tracking API under ``/analytics/v1``.

The Python SDK posts everything to ``<host>/v1/batch``, so
``segment.analytics.Client(write_key, host="<mocks>/analytics")`` talks to it unchanged.
A batch is checked whole before any message is stored: one bad message refuses the batch
(Segment itself drops bad messages quietly; a test bed would rather say which one).
"""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mocks.analytics.messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    MESSAGE_TYPES,
    SegmentError,
    check_message,
    parse_timestamp,
)

if TYPE_CHECKING:
    from mocks.analytics.service import AnalyticsService

__all__ = ["SegmentErrorRoute", "build_router"]

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


async def _read_json(request: Request, max_bytes: int, what: str) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SegmentError.invalid("body is not valid gzip") from exc
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
    if not isinstance(given, str) or not secrets.compare_digest(given, expected):
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


def build_router(service: AnalyticsService) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=SegmentErrorRoute, tags=["analytics"])

    def accept(messages: list[dict[str, Any]], sent_at: Any) -> JSONResponse:
        sent = parse_timestamp(sent_at, "sentAt")
        received = service.now()
        for message in messages:
            stored = service.store.ingest(message, sent, received)
            if stored is None:
                continue  # a repeated messageId: accepted, applied once
            service.ledger.record(
                f"event.{stored['type']}", stored["messageId"], stored["messageId"],
                userId=stored.get("userId"), anonymousId=stored.get("anonymousId"),
                event=stored.get("event"),
            )
        return JSONResponse(_ACCEPTED)

    async def authorised_body(request: Request, max_bytes: int, what: str) -> dict[str, Any]:
        body = await _read_json(request, max_bytes, what)
        _check_write_key(request, body, service.ctx.settings.credentials.segment_write_key)
        return body

    @router.post("/batch", summary="A batch of up to 500KB of messages")
    @router.post("/import", summary="Alias of /v1/batch, as in Segment's API")
    async def batch(request: Request) -> JSONResponse:
        body = await authorised_body(request, MAX_BATCH_BYTES, "batch")
        items = body.get("batch")
        if not isinstance(items, list):
            raise SegmentError.invalid("batch must be an array of messages")
        checked = [
            check_message(_with_shared(body, item), f"batch[{i}].") for i, item in enumerate(items)
        ]
        return accept(checked, body.get("sentAt"))

    def single(kind: str) -> Callable[[Request], Coroutine[Any, Any, JSONResponse]]:
        async def one_message(request: Request) -> JSONResponse:
            body = await authorised_body(request, MAX_MESSAGE_BYTES, "message")
            return accept([check_message(body, "", kind)], body.get("sentAt"))

        return one_message

    for kind in MESSAGE_TYPES:
        router.add_api_route(f"/{kind}", single(kind), methods=["POST"], summary=kind)
    return router
