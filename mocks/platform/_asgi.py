"""Small ASGI helpers the gateway uses to answer, buffer and break responses."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class InjectedDrop(Exception):
    """Raised mid-response so the server closes the connection: a dropped connection."""


class _HideInjectedDrops(logging.Filter):
    """The server logs an exception for every dropped connection; ours are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, InjectedDrop):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def quiet_injected_drops() -> None:
    for name in ("uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideInjectedDrops) for f in logger.filters):
            logger.addFilter(_HideInjectedDrops())


async def send_json(
    send: Send,
    status: int,
    body: Any,
    headers: list[tuple[bytes, bytes]],
    media_type: str = "application/json",
) -> None:
    # A system whose vendor does not speak JSON (SOAP) hands its error body over as bytes.
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BufferedResponse:
    """Collects an app's whole response so a fault can rewrite or break it."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = dict(message)
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    def start_with(self, length: int, extra: list[tuple[bytes, bytes]]) -> Message:
        assert self.start is not None, "the app sent no response"
        headers = [
            (k, v) for k, v in self.start.get("headers", []) if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(length).encode()))
        return {**self.start, "headers": headers + extra}


def add_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending
